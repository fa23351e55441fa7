/* test.h: libuv-style assertions for the kr-uvshim C tests.
 * Every failed assertion prints file:line, the expression and both values,
 * then abort()s (the runner sees the signal; valgrind sees nothing leak). */
#ifndef KR_TEST_H
#define KR_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KR_TEST_FAIL_(fmt, ...)                                              \
  do {                                                                      \
    fprintf(stderr, "Assertion failed in %s on line %d: " fmt "\n",         \
            __FILE__, __LINE__, __VA_ARGS__);                               \
    fflush(stderr);                                                         \
    abort();                                                                \
  } while (0)

/* Integers (signed or unsigned, any width up to 64 bits): compared as
 * int64_t after conversion, printed both ways. */
#define KR_ASSERT_INT_(a, op, b)                                             \
  do {                                                                      \
    int64_t kr_a_ = (int64_t)(a);                                           \
    int64_t kr_b_ = (int64_t)(b);                                           \
    if (!(kr_a_ op kr_b_))                                                  \
      KR_TEST_FAIL_("`%s %s %s` (%lld %s %lld)", #a, #op, #b,               \
                    (long long)kr_a_, #op, (long long)kr_b_);               \
  } while (0)

#define ASSERT(expr)                                                         \
  do {                                                                      \
    if (!(expr)) KR_TEST_FAIL_("%s", #expr);                                \
  } while (0)

#define ASSERT_EQ(a, b) KR_ASSERT_INT_(a, ==, b)
#define ASSERT_NE(a, b) KR_ASSERT_INT_(a, !=, b)
#define ASSERT_GE(a, b) KR_ASSERT_INT_(a, >=, b)
#define ASSERT_GT(a, b) KR_ASSERT_INT_(a, >, b)
#define ASSERT_LE(a, b) KR_ASSERT_INT_(a, <=, b)
#define ASSERT_LT(a, b) KR_ASSERT_INT_(a, <, b)

#define ASSERT_PTR_EQ(a, b)                                                  \
  do {                                                                      \
    const void *kr_a_ = (const void *)(a);                                  \
    const void *kr_b_ = (const void *)(b);                                  \
    if (kr_a_ != kr_b_)                                                     \
      KR_TEST_FAIL_("`%s == %s` (%p == %p)", #a, #b, kr_a_, kr_b_);         \
  } while (0)

#define ASSERT_NULL(a)                                                       \
  do {                                                                      \
    const void *kr_a_ = (const void *)(a);                                  \
    if (kr_a_ != NULL) KR_TEST_FAIL_("`%s == NULL` (%p)", #a, kr_a_);       \
  } while (0)

#define ASSERT_NOT_NULL(a)                                                   \
  do {                                                                      \
    const void *kr_a_ = (const void *)(a);                                  \
    if (kr_a_ == NULL) KR_TEST_FAIL_("`%s != NULL` (NULL)", #a);            \
  } while (0)

#define ASSERT_STR_EQ(a, b)                                                  \
  do {                                                                      \
    const char *kr_a_ = (a);                                                \
    const char *kr_b_ = (b);                                                \
    if (kr_a_ == NULL || kr_b_ == NULL || strcmp(kr_a_, kr_b_) != 0)        \
      KR_TEST_FAIL_("`%s == %s` (\"%s\" == \"%s\")", #a, #b,                \
                    kr_a_ ? kr_a_ : "(null)", kr_b_ ? kr_b_ : "(null)");    \
  } while (0)

/* `haystack` contains `needle`. */
#define ASSERT_STR_CONTAINS(haystack, needle)                                \
  do {                                                                      \
    const char *kr_h_ = (haystack);                                         \
    const char *kr_n_ = (needle);                                           \
    if (kr_h_ == NULL || strstr(kr_h_, kr_n_) == NULL)                      \
      KR_TEST_FAIL_("`%s` contains `%s` (\"%s\" does not contain \"%s\")",  \
                    #haystack, #needle, kr_h_ ? kr_h_ : "(null)", kr_n_);   \
  } while (0)

#endif /* KR_TEST_H */
