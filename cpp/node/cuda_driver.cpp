#include "cuda_driver.h"

#include <dlfcn.h>

namespace ee {

namespace {

template <class F>
void find(void *library, F &entry, const char *name) {
  entry = reinterpret_cast<F>(dlsym(library, name));
}

}  // namespace

const CudaDriver &cuda_driver() {
  static const CudaDriver loaded = [] {
    CudaDriver d;
    // RTLD_NOLOAD: only a driver the host already uses; never bring CUDA into a host that has none.
    d.library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (d.library == nullptr) return d;
    find(d.library, d.ctx_get_current, "cuCtxGetCurrent");
    find(d.library, d.ctx_push_current, "cuCtxPushCurrent_v2");
    find(d.library, d.ctx_pop_current, "cuCtxPopCurrent_v2");
    find(d.library, d.ctx_get_device, "cuCtxGetDevice");
    find(d.library, d.device_get_pci_bus_id, "cuDeviceGetPCIBusId");
    find(d.library, d.mem_get_address_range, "cuMemGetAddressRange_v2");
    find(d.library, d.ipc_get_mem_handle, "cuIpcGetMemHandle");
    find(d.library, d.event_create, "cuEventCreate");
    find(d.library, d.event_record, "cuEventRecord");
    find(d.library, d.ipc_get_event_handle, "cuIpcGetEventHandle");
    find(d.library, d.event_destroy, "cuEventDestroy_v2");
    find(d.library, d.get_error_name, "cuGetErrorName");
    return d;
  }();
  return loaded;
}

std::string cuda_failure(const char *call, int error) {
  const char *name = nullptr;
  if (cuda_driver().get_error_name == nullptr || cuda_driver().get_error_name(error, &name) != 0) name = nullptr;
  return std::string(call) + " failed: " + (name != nullptr ? name : "CUDA error") + " (" + std::to_string(error) + ")";
}

}  // namespace ee
