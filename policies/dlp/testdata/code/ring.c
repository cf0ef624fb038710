#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ring {
    uint8_t *buf;
    size_t cap;
    size_t head;
    size_t len;
};

int ring_init(struct ring *r, size_t cap)
{
    r->buf = malloc(cap);
    if (r->buf == NULL)
        return -1;
    r->cap = cap;
    r->head = 0;
    r->len = 0;
    return 0;
}

size_t ring_write(struct ring *r, const uint8_t *data, size_t n)
{
    size_t written = 0;
    while (written < n && r->len < r->cap) {
        size_t tail = (r->head + r->len) % r->cap;
        r->buf[tail] = data[written++];
        r->len++;
    }
    return written;
}

size_t ring_read(struct ring *r, uint8_t *out, size_t n)
{
    size_t got = 0;
    for (; got < n && r->len > 0; got++) {
        out[got] = r->buf[r->head];
        r->head = (r->head + 1) % r->cap;
        r->len--;
    }
    return got;
}

void ring_free(struct ring *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}
