#include "shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace ee {

namespace {

constexpr std::size_t kGrain = 1 << 20;

}  // namespace

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (errno != EINTR) {
      std::ifstream urandom("/dev/urandom", std::ios::binary);  // a kernel without getrandom
      urandom.read(raw.data(), static_cast<std::streamsize>(bytes));
      break;
    }
  }
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex.push_back(digits[c >> 4]);
    hex.push_back(digits[c & 15]);
  }
  return hex;
}

std::unique_ptr<Segment> Segment::create(std::size_t bytes, std::string &error) {
  const std::size_t size = (bytes + kGrain - 1) / kGrain * kGrain;
  const std::string name = "/emotionedit-" + random_hex(16);
  const int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);  // shm_open sets FD_CLOEXEC
  if (fd < 0) {
    error = "could not create shared memory for the engine server: " + std::string(std::strerror(errno));
    return nullptr;
  }
  shm_unlink(name.c_str());  // from now on only the descriptor leads to it
  // Reserve the memory now: a sparse segment on a full /dev/shm would kill the host with SIGBUS
  // at the first copy into it (containers often give /dev/shm only 64 MiB).
  int reserved = posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (reserved == EOPNOTSUPP || reserved == EINVAL) reserved = ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
  if (reserved != 0) {
    struct statvfs shm {};
    const std::string room =
        statvfs("/dev/shm", &shm) == 0
            ? std::to_string(static_cast<unsigned long long>(shm.f_bavail) * shm.f_frsize >> 20) + " MiB free"
            : "unknown room";
    error = "could not reserve " + std::to_string(size >> 20) +
            " MiB of shared memory for the engine server: " + std::strerror(reserved) + " (/dev/shm has " + room +
            "; in a container, give it more with --shm-size, or render smaller frames)";
    close(fd);
    return nullptr;
  }
  // MAP_POPULATE: fault the pages in now, not on the first frame's copy.
  void *data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (data == MAP_FAILED) {
    error = "could not map shared memory for the engine server: " + std::string(std::strerror(errno));
    close(fd);
    return nullptr;
  }
  return std::unique_ptr<Segment>(new Segment(fd, static_cast<std::uint8_t *>(data), size));
}

Segment::~Segment() {
  munmap(data_, size_);
  close(fd_);
}

}  // namespace ee
