// The CUDA driver API, as far as the node uses it, from the driver library the host has
// already loaded (dlopen RTLD_NOLOAD): the node never brings CUDA into a host that has
// none, and builds and runs without the CUDA toolkit. Types are the driver's, spelled
// out (CUresult is an int enum; contexts, streams and events are opaque pointers;
// CUdeviceptr is a 64-bit integer on x86-64).
#pragma once

#include <cstddef>
#include <string>

namespace ee {

constexpr int kCudaIpcHandleBytes = 64;  // sizeof(CUipcMemHandle) == sizeof(CUipcEventHandle)
constexpr unsigned kCudaEventDisableTiming = 0x2, kCudaEventInterprocess = 0x4;

struct CudaIpcHandle {
  char reserved[kCudaIpcHandleBytes];
};

struct CudaDriver {
  void *library = nullptr;  // null: no CUDA driver in this process (every pointer below is then null)
  int (*ctx_get_current)(void **context) = nullptr;
  int (*ctx_push_current)(void *context) = nullptr;
  int (*ctx_pop_current)(void **context) = nullptr;
  int (*ctx_get_device)(int *device) = nullptr;
  int (*device_get_pci_bus_id)(char *id, int length, int device) = nullptr;
  int (*mem_get_address_range)(unsigned long long *base, std::size_t *size, unsigned long long pointer) = nullptr;
  int (*ipc_get_mem_handle)(CudaIpcHandle *handle, unsigned long long pointer) = nullptr;
  int (*event_create)(void **event, unsigned flags) = nullptr;
  int (*event_record)(void *event, void *stream) = nullptr;
  int (*ipc_get_event_handle)(CudaIpcHandle *handle, void *event) = nullptr;
  int (*event_destroy)(void *event) = nullptr;
  int (*get_error_name)(int error, const char **name) = nullptr;
};

// The driver's entry points, looked up once.
const CudaDriver &cuda_driver();

// "cuIpcGetMemHandle failed: CUDA_ERROR_INVALID_VALUE (1)", for messages.
std::string cuda_failure(const char *call, int error);

}  // namespace ee
