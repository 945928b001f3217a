// The host's CUDA context, carried from its render thread to the Python worker thread.
// CUDA contexts are current per thread: the engine's worker must make the host's
// context current before touching the device pointers the host handed over. Uses the
// driver library the host has already loaded (never loads CUDA itself), so the node
// builds and runs without the CUDA toolkit.
#pragma once

namespace ee {

// The calling thread's current CUDA context, or nullptr (no CUDA in this process).
void *current_cuda_context();

// Makes a context current on this thread for the scope's lifetime.
class CudaContextScope {
 public:
  explicit CudaContextScope(void *context);
  ~CudaContextScope();
  CudaContextScope(const CudaContextScope &) = delete;
  CudaContextScope &operator=(const CudaContextScope &) = delete;

 private:
  bool pushed_ = false;
};

}  // namespace ee
