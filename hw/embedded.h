/* Internal to hw/: the data files of hw/data/, embedded into the library by hw/embed.cmake. */
#ifndef HW_EMBEDDED_H
#define HW_EMBEDDED_H

#include <stddef.h>

extern const char hw_data_accelerators_csv[];
extern const size_t hw_data_accelerators_csv_len;
extern const char hw_data_models_csv[];
extern const size_t hw_data_models_csv_len;
extern const char hw_data_efficiency_csv[];
extern const size_t hw_data_efficiency_csv_len;
extern const char hw_data_power_csv[];
extern const size_t hw_data_power_csv_len;
extern const char hw_data_host_power_csv[];
extern const size_t hw_data_host_power_csv_len;

#endif
