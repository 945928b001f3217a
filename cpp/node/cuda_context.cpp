#include "cuda_context.h"

#include "cuda_driver.h"

namespace ee {

void *current_cuda_context() {
  void *context = nullptr;
  if (cuda_driver().ctx_get_current != nullptr && cuda_driver().ctx_get_current(&context) == 0) return context;
  return nullptr;
}

CudaContextScope::CudaContextScope(void *context) {
  if (context != nullptr && cuda_driver().ctx_push_current != nullptr) {
    pushed_ = cuda_driver().ctx_push_current(context) == 0;
  }
}

CudaContextScope::~CudaContextScope() {
  if (pushed_ && cuda_driver().ctx_pop_current != nullptr) {
    void *popped = nullptr;
    cuda_driver().ctx_pop_current(&popped);
  }
}

}  // namespace ee
