// A CUDA frame handed to the engine server. A host that renders with CUDA (DaVinci
// Resolve) gives the node device pointers, which mean nothing in another process. The
// node exports instead, through the driver the host has loaded:
//   - for the source and the output, the CUDA IPC handle of the allocation the image
//     lies in, the allocation's size, the image's offset in it and its row bytes;
//   - the device's PCI bus id (the server opens the handles on the same device);
//   - an interprocess event recorded on the host's stream after the work the host has
//     queued on these images: the server's stream waits on it, so nothing synchronises
//     the device, and the host's stream is never blocked.
// The server finishes its own stream before replying, so the output is complete when the
// node returns. Not yet run on a real device (the development machines have no GPU).
#pragma once

#include <string>

#include "transport.h"
#include "wire.h"

namespace ee {

class CudaExport {
 public:
  CudaExport() = default;
  ~CudaExport();  // destroys the event (the server has finished with it by then)
  CudaExport(const CudaExport &) = delete;
  CudaExport &operator=(const CudaExport &) = delete;

  // Add the frame's CUDA fields; "" on success, else why it cannot be shared (the host may render on the CPU).
  std::string prepare(const FrameJob &job, wire::Fields &fields);

 private:
  void *event_ = nullptr;
};

}  // namespace ee
