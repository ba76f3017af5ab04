#include "real.h"

#include <dlfcn.h>
#include <pthread.h>

struct shim_real shim_real;

static void resolve(void)
{
#define SHIM_REAL_RESOLVE(ret, name, params) \
	__atomic_store_n(&shim_real.name, (ret(*) params)dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE);
	SHIM_REAL_FUNCTIONS(SHIM_REAL_RESOLVE)
#undef SHIM_REAL_RESOLVE
}

void shim_real_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, resolve);
}
