// Frames to and from the engine server go through POSIX shared memory: one segment per
// connection, sized to the largest frame seen. The segment is created with an
// unpredictable name, mode 0600, and unlinked at once: its file descriptor, passed to
// the server over the socket, is the only way in, and nothing is left behind in
// /dev/shm whatever happens to either process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ee {

class Segment {
 public:
  // A segment of at least `bytes` (rounded up to whole MiB); nullptr with `error` set on failure.
  static std::unique_ptr<Segment> create(std::size_t bytes, std::string &error);
  ~Segment();
  Segment(const Segment &) = delete;
  Segment &operator=(const Segment &) = delete;

  int fd() const { return fd_; }
  std::size_t size() const { return size_; }
  std::uint8_t *data() const { return data_; }

 private:
  Segment(int fd, std::uint8_t *data, std::size_t size) : fd_(fd), data_(data), size_(size) {}
  int fd_;
  std::uint8_t *data_;
  std::size_t size_;
};

// Random bytes as hex, for names nobody can guess.
std::string random_hex(std::size_t bytes);

}  // namespace ee
