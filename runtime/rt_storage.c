/* rt_storage: placeholder until the storage lands. */
#include "rt_storage.h"
