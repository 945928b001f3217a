// cuda 2: a host that renders with CUDA on a real device, as DaVinci Resolve does. The frame's images are
// copied to device memory (cuMemAlloc: allocations that CUDA IPC can share with the engine server), the
// plugin gets device pointers and a stream of the host's own, and after Render the host waits for that
// stream and copies the images back, so the usual checks (bytes outside the window, the source intact) and
// the output file work as for host memory. The driver is loaded at run time (no CUDA toolkit needed to build);
// the primary context of device 0 is made current on each render thread before the plugin is called.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "host.h"

namespace testhost {

namespace {

using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUstream = void *;
using CUdeviceptr = unsigned long long;

struct Driver {
  void *library = nullptr;
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*device_get)(CUdevice *, int) = nullptr;
  CUresult (*primary_retain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*ctx_set_current)(CUcontext) = nullptr;
  CUresult (*mem_alloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*mem_free)(CUdeviceptr) = nullptr;
  CUresult (*htod)(CUdeviceptr, const void *, size_t) = nullptr;
  CUresult (*dtoh)(void *, CUdeviceptr, size_t) = nullptr;
  CUresult (*stream_create)(CUstream *, unsigned) = nullptr;
  CUresult (*stream_sync)(CUstream) = nullptr;
  CUresult (*stream_destroy)(CUstream) = nullptr;
  CUcontext context = nullptr;
  std::string error;
};

template <typename F>
void find(Driver &d, F &entry, const char *name) {
  entry = reinterpret_cast<F>(dlsym(d.library, name));
  if (entry == nullptr && d.error.empty()) d.error = std::string("libcuda.so.1 lacks ") + name;
}

Driver &driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    // RTLD_GLOBAL: the plugin finds the host's driver with RTLD_NOLOAD, as in a real CUDA host.
    d.library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (d.library == nullptr) {
      d.error = std::string("cannot load libcuda.so.1: ") + dlerror();
      return;
    }
    find(d, d.init, "cuInit");
    find(d, d.device_get, "cuDeviceGet");
    find(d, d.primary_retain, "cuDevicePrimaryCtxRetain");
    find(d, d.ctx_set_current, "cuCtxSetCurrent");
    find(d, d.mem_alloc, "cuMemAlloc_v2");
    find(d, d.mem_free, "cuMemFree_v2");
    find(d, d.htod, "cuMemcpyHtoD_v2");
    find(d, d.dtoh, "cuMemcpyDtoH_v2");
    find(d, d.stream_create, "cuStreamCreate");
    find(d, d.stream_sync, "cuStreamSynchronize");
    find(d, d.stream_destroy, "cuStreamDestroy_v2");
    if (!d.error.empty()) return;
    CUdevice device = 0;
    CUresult r = d.init(0);
    if (r == 0) r = d.device_get(&device, 0);
    if (r == 0) r = d.primary_retain(&d.context, device);
    if (r != 0) d.error = "CUDA initialisation failed (CUresult " + std::to_string(r) + ")";
  });
  return d;
}

bool check(CUresult r, const char *what, std::string *error) {
  if (r == 0) return true;
  *error = std::string(what) + " failed (CUresult " + std::to_string(r) + ")";
  return false;
}

}  // namespace

bool cuda_frame_begin(Frame &frame, std::string *error) {
  Driver &d = driver();
  if (!d.error.empty()) {
    *error = d.error;
    return false;
  }
  if (!check(d.ctx_set_current(d.context), "cuCtxSetCurrent", error)) return false;
  CUdeviceptr src = 0, dst = 0;
  CUstream stream = nullptr;
  if (!check(d.mem_alloc(&src, frame.src.size()), "cuMemAlloc", error)) return false;
  frame.device_src = src;
  if (!check(d.mem_alloc(&dst, frame.dst.size()), "cuMemAlloc", error)) return false;
  frame.device_dst = dst;
  if (!check(d.htod(src, frame.src.data(), frame.src.size()), "cuMemcpyHtoD", error) ||
      !check(d.htod(dst, frame.dst.data(), frame.dst.size()), "cuMemcpyHtoD", error))
    return false;
  if (!check(d.stream_create(&stream, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate", error)) return false;
  frame.device_stream = stream;
  return true;
}

bool cuda_frame_end(Frame &frame, std::string *error) {
  Driver &d = driver();
  bool ok = true;
  if (frame.device_stream != nullptr) ok = check(d.stream_sync(frame.device_stream), "cuStreamSynchronize", error);
  if (ok && frame.device_dst != 0)
    ok = check(d.dtoh(frame.dst.data(), frame.device_dst, frame.dst.size()), "cuMemcpyDtoH", error);
  if (ok && frame.device_src != 0)
    ok = check(d.dtoh(frame.src.data(), frame.device_src, frame.src.size()), "cuMemcpyDtoH", error);
  if (frame.device_stream != nullptr) d.stream_destroy(frame.device_stream);
  if (frame.device_src != 0) d.mem_free(frame.device_src);
  if (frame.device_dst != 0) d.mem_free(frame.device_dst);
  frame.device_stream = nullptr;
  frame.device_src = frame.device_dst = 0;
  return ok;
}

}  // namespace testhost
