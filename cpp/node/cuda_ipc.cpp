#include "cuda_ipc.h"

#include "cuda_driver.h"

namespace ee {

namespace {

std::string share_image(const CudaDriver &cuda, const char *prefix, const EEImage &image, wire::Fields &fields) {
  const auto pointer = reinterpret_cast<unsigned long long>(image.data);
  unsigned long long base = 0;
  std::size_t size = 0;
  int error = cuda.mem_get_address_range(&base, &size, pointer);
  if (error != 0) return cuda_failure("cuMemGetAddressRange", error) + " for the " + prefix + " image";
  CudaIpcHandle handle{};
  error = cuda.ipc_get_mem_handle(&handle, base);
  if (error != 0) {
    return cuda_failure("cuIpcGetMemHandle", error) + " for the " + std::string(prefix) +
           " image (the host's allocation cannot be shared with another process)";
  }
  const std::string name = prefix;
  fields.put_bytes(name + "_ipc", handle.reserved, sizeof handle.reserved);
  fields.put(name + "_alloc", static_cast<long long>(size));
  fields.put(name + "_data", static_cast<long long>(pointer - base));
  fields.put(name + "_row_bytes", image.row_bytes);
  return "";
}

}  // namespace

CudaExport::~CudaExport() {
  if (event_ != nullptr && cuda_driver().event_destroy != nullptr) cuda_driver().event_destroy(event_);
}

std::string CudaExport::prepare(const FrameJob &job, wire::Fields &fields) {
  const CudaDriver &cuda = cuda_driver();
  if (cuda.library == nullptr) {
    return "the host asked for a CUDA render but no CUDA driver is loaded in this process";
  }
  if (cuda.ctx_get_device == nullptr || cuda.device_get_pci_bus_id == nullptr ||
      cuda.mem_get_address_range == nullptr || cuda.ipc_get_mem_handle == nullptr || cuda.event_create == nullptr ||
      cuda.event_record == nullptr || cuda.ipc_get_event_handle == nullptr) {
    return "the CUDA driver in this process lacks the interprocess functions (cuIpcGetMemHandle, ...)";
  }
  int device = 0;
  int error = cuda.ctx_get_device(&device);
  if (error != 0) return cuda_failure("cuCtxGetDevice", error) + " (no CUDA context current on the render thread)";
  char bus[32] = {0};
  error = cuda.device_get_pci_bus_id(bus, sizeof bus - 1, device);
  if (error != 0) return cuda_failure("cuDeviceGetPCIBusId", error);
  fields.put("device", std::string(bus));
  for (const auto &[prefix, image] : {std::pair<const char *, const EEImage &>{"src", job.src}, {"dst", job.dst}}) {
    const std::string problem = share_image(cuda, prefix, image, fields);
    if (!problem.empty()) return problem;
  }
  error = cuda.event_create(&event_, kCudaEventDisableTiming | kCudaEventInterprocess);
  if (error != 0) {
    event_ = nullptr;
    return cuda_failure("cuEventCreate", error);
  }
  // After the work the host has queued on its stream (no stream: the context's default stream).
  error = cuda.event_record(event_, job.cuda_stream);
  if (error != 0) return cuda_failure("cuEventRecord", error);
  CudaIpcHandle handle{};
  error = cuda.ipc_get_event_handle(&handle, event_);
  if (error != 0) return cuda_failure("cuIpcGetEventHandle", error);
  fields.put_bytes("event_ipc", handle.reserved, sizeof handle.reserved);
  return "";
}

}  // namespace ee
