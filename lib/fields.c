/* Text of whole fields in a bounded buffer (see fields.h). */
#include <stdarg.h>
#include <stdio.h>

#include "lib/fields.h"

void fields_start(struct fields *f, char *buf, size_t size)
{
	*f = (struct fields){.buf = buf, .size = size, .full = size == 0};
	if (size)
		buf[0] = '\0';
}

void fields_add(struct fields *f, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (f->full)
		return;
	va_start(ap, fmt);
	rc = vsnprintf(f->buf + f->len, f->size - f->len, fmt, ap);
	va_end(ap);
	if (rc < 0 || (size_t)rc >= f->size - f->len) {
		f->buf[f->len] = '\0'; /* whole fields only */
		f->full = true;
		return;
	}
	f->len += (size_t)rc;
}
