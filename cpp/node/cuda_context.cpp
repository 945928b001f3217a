#include "cuda_context.h"

#include <dlfcn.h>

namespace ee {

namespace {

// Driver API entry points (CUresult is an int enum, CUcontext an opaque pointer).
struct CudaDriver {
  int (*ctx_get_current)(void **context) = nullptr;
  int (*ctx_push_current)(void *context) = nullptr;
  int (*ctx_pop_current)(void **context) = nullptr;
};

const CudaDriver &driver() {
  static const CudaDriver loaded = [] {
    CudaDriver d;
    // RTLD_NOLOAD: only a driver the host already uses; never bring CUDA into a host that has none.
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (library == nullptr) return d;
    d.ctx_get_current = reinterpret_cast<int (*)(void **)>(dlsym(library, "cuCtxGetCurrent"));
    d.ctx_push_current = reinterpret_cast<int (*)(void *)>(dlsym(library, "cuCtxPushCurrent_v2"));
    d.ctx_pop_current = reinterpret_cast<int (*)(void **)>(dlsym(library, "cuCtxPopCurrent_v2"));
    return d;
  }();
  return loaded;
}

}  // namespace

void *current_cuda_context() {
  void *context = nullptr;
  if (driver().ctx_get_current != nullptr && driver().ctx_get_current(&context) == 0) return context;
  return nullptr;
}

CudaContextScope::CudaContextScope(void *context) {
  if (context != nullptr && driver().ctx_push_current != nullptr) pushed_ = driver().ctx_push_current(context) == 0;
}

CudaContextScope::~CudaContextScope() {
  if (pushed_ && driver().ctx_pop_current != nullptr) {
    void *popped = nullptr;
    driver().ctx_pop_current(&popped);
  }
}

}  // namespace ee
