#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ARRAY_LEN(x) (sizeof(x) / sizeof((x)[0]))
#define CHECK(expr)                                          \
    do {                                                     \
        if (!(expr)) {                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n",     \
                    __FILE__, __LINE__, #expr);              \
            abort();                                         \
        }                                                    \
    } while (0)
