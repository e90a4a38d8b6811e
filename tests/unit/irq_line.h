/*
 * The interrupt line a virtio-mmio model raises, as the unit tests see it: hand irq_line_raise
 * to vmmio_set_irq, and irq_take() says whether the line was raised since it last asked.
 */
#ifndef TESTS_UNIT_IRQ_LINE_H
#define TESTS_UNIT_IRQ_LINE_H

#include <stdbool.h>

static unsigned int irq_count;

static inline void irq_line_raise(void *ctx)
{
	(void)ctx;
	irq_count++;
}

static inline bool irq_take(void)
{
	bool raised = irq_count != 0;

	irq_count = 0;
	return raised;
}

#endif
