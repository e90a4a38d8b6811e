/*
 * Text made of whole fields in a bounded buffer (what dom0 reads from xenstore: the stats,
 * the latency histograms): a field that does not fit is not written, nor anything after it,
 * and the caller learns the text was cut.
 */
#ifndef LIB_FIELDS_H
#define LIB_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

/** A text being built in buf (size bytes, NUL-terminated as it goes). */
struct fields {
	char *buf;
	size_t size;
	size_t len;
	bool full; /* a field did not fit: nothing more is added */
};

/** Starts an empty text in buf; `size` 0 makes it full at once. */
void fields_start(struct fields *f, char *buf, size_t size);
/** Appends printf(fmt, ...) as a whole, or nothing (and marks the text full). */
void fields_add(struct fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
