/* Internal to hw/: how catalogue and engine names match, ignoring case and every character that is
 * not a letter or digit ("h100 sxm 80gb" is "H100-SXM-80GB", "vLLM V1" is "vllm-v1"). */
#ifndef HW_NAMES_H
#define HW_NAMES_H

#include <ctype.h>
#include <stdbool.h>

static inline bool hw_same_name(const char *a, const char *b) {
  for (;;) {
    while (*a && !isalnum((unsigned char)*a))
      a++;
    while (*b && !isalnum((unsigned char)*b))
      b++;
    if (!*a || !*b)
      return !*a && !*b;
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return false;
    a++, b++;
  }
}

#endif
