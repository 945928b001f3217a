#include "wire.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ee::wire {

namespace {

template <class T>
void append(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86-64 and aarch64 Linux are little-endian, as the protocol
  out.append(bytes, sizeof(T));
}

template <class T>
T read_at(const std::string &data, std::size_t at) {
  T value;
  std::memcpy(&value, data.data() + at, sizeof(T));
  return value;
}

int remaining_ms(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : left.count() > 60000 ? 60000 : static_cast<int>(left.count());
}

// Wait until the socket is ready for `events`, or the deadline passes.
Io wait_for(int socket, short events, Deadline deadline) {
  for (;;) {
    const int ms = remaining_ms(deadline);
    if (ms == 0 && std::chrono::steady_clock::now() >= deadline) return Io::Timeout;
    pollfd p{socket, events, 0};
    const int ready = poll(&p, 1, ms);
    if (ready > 0) return Io::Ok;  // readable, writable, or hung up: the next call tells which
    if (ready < 0 && errno != EINTR) return Io::Failed;
  }
}

Io closed_or_failed(int error_number, std::string &error) {
  error = std::strerror(error_number);
  return error_number == EPIPE || error_number == ECONNRESET ? Io::Closed : Io::Failed;
}

Io send_bytes(int socket, const std::string &data, int pass_fd, Deadline deadline, std::string &error) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    iovec part{const_cast<char *>(data.data() + sent), data.size() - sent};
    msghdr header{};
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (pass_fd >= 0 && sent == 0) {  // the descriptor rides with the first byte
      std::memset(control, 0, sizeof control);
      header.msg_control = control;
      header.msg_controllen = sizeof control;
      cmsghdr *c = CMSG_FIRSTHDR(&header);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    const ssize_t n = sendmsg(socket, &header, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const Io ready = wait_for(socket, POLLOUT, deadline);
      if (ready != Io::Ok) return ready;
    } else if (n < 0 && errno != EINTR) {
      return closed_or_failed(errno, error);
    }
  }
  return Io::Ok;
}

Io receive_bytes(int socket, char *out, std::size_t size, Deadline deadline, std::string &error) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = recv(socket, out + got, size - got, MSG_DONTWAIT);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n == 0) {
      error = "the engine server closed the connection";
      return Io::Closed;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const Io ready = wait_for(socket, POLLIN, deadline);
      if (ready != Io::Ok) return ready;
    } else if (errno != EINTR) {
      return closed_or_failed(errno, error);
    }
  }
  return Io::Ok;
}

}  // namespace

void Fields::name(const std::string &name, char type) {
  body_.push_back(static_cast<char>(name.size()));
  body_ += name;
  body_.push_back(type);
}

void Fields::put(const std::string &name, long long value) {
  this->name(name, 'i');
  append<std::int64_t>(body_, value);
}

void Fields::put(const std::string &name, double value) {
  this->name(name, 'f');
  append<double>(body_, value);
}

void Fields::put(const std::string &name, const std::string &value) {
  const std::string text = value.substr(0, kMaxString);
  this->name(name, 's');
  append<std::uint32_t>(body_, static_cast<std::uint32_t>(text.size()));
  body_ += text;
}

void Fields::put_bytes(const std::string &name, const void *data, std::size_t size) {
  this->name(name, 'b');
  append<std::uint32_t>(body_, static_cast<std::uint32_t>(size));
  body_.append(static_cast<const char *>(data), size);
}

void Fields::put_ints(const std::string &name, const std::vector<long long> &values) {
  this->name(name, 'I');
  append<std::uint32_t>(body_, static_cast<std::uint32_t>(values.size()));
  for (long long v : values) append<std::int64_t>(body_, v);
}

void Fields::put_doubles(const std::string &name, const std::vector<double> &values) {
  this->name(name, 'F');
  append<std::uint32_t>(body_, static_cast<std::uint32_t>(values.size()));
  for (double v : values) append<double>(body_, v);
}

long long Message::integer(const std::string &name, long long fallback) const {
  const auto it = fields.find(name);
  return it != fields.end() && it->second.type == 'i' ? it->second.i : fallback;
}

std::string Message::text(const std::string &name, const std::string &fallback) const {
  const auto it = fields.find(name);
  return it != fields.end() && it->second.type == 's' ? it->second.s : fallback;
}

std::string decode(const std::string &body, std::map<std::string, Value> &out) {
  std::size_t at = 0;
  auto need = [&](std::size_t count) { return count <= body.size() - at; };
  while (at < body.size()) {
    const std::size_t size = static_cast<unsigned char>(body[at++]);
    if (size == 0 || size > kMaxName || !need(size + 1)) return "a field name is empty, too long or cut off";
    const std::string name = body.substr(at, size);
    at += size;
    Value v;
    v.type = body[at++];
    if (v.type == 'i' || v.type == 'f') {
      if (!need(8)) return "field '" + name + "' is cut off";
      if (v.type == 'i') v.i = read_at<std::int64_t>(body, at);
      if (v.type == 'f') v.f = read_at<double>(body, at);
      at += 8;
    } else if (v.type == 's' || v.type == 'b' || v.type == 'I' || v.type == 'F') {
      if (!need(4)) return "field '" + name + "' is cut off";
      const std::size_t count = read_at<std::uint32_t>(body, at);
      at += 4;
      const bool array = v.type == 'I' || v.type == 'F';
      const std::size_t limit = array ? kMaxArray : v.type == 's' ? kMaxString : kMaxBytes;
      const std::size_t bytes = array ? count * 8 : count;
      if (count > limit || !need(bytes)) return "field '" + name + "' is too long or cut off";
      if (!array) v.s = body.substr(at, count);
      for (std::size_t k = 0; array && k < count; ++k) {
        if (v.type == 'I') v.ints.push_back(read_at<std::int64_t>(body, at + 8 * k));
        if (v.type == 'F') v.doubles.push_back(read_at<double>(body, at + 8 * k));
      }
      at += bytes;
    } else {
      return "field '" + name + "' has an unknown type";
    }
    out[name] = std::move(v);
  }
  return "";
}

Io send(int socket, std::uint16_t kind, std::uint32_t request, const Fields &fields, int pass_fd, Deadline deadline,
        std::string &error) {
  std::string data(kMagic, 4);
  append<std::uint16_t>(data, kProtocol);
  append<std::uint16_t>(data, kind);
  append<std::uint32_t>(data, request);
  append<std::uint32_t>(data, static_cast<std::uint32_t>(fields.body().size()));
  data += fields.body();
  return send_bytes(socket, data, pass_fd, deadline, error);
}

Io receive(int socket, Message &message, Deadline deadline, std::string &error) {
  std::string header(kHeaderBytes, '\0');
  Io io = receive_bytes(socket, header.data(), header.size(), deadline, error);
  if (io != Io::Ok) return io;
  if (header.compare(0, 4, kMagic, 4) != 0) {
    error = "the engine server sent something that is not an EmotionEdit engine message";
    return Io::Failed;
  }
  message.protocol = read_at<std::uint16_t>(header, 4);
  message.kind = read_at<std::uint16_t>(header, 6);
  message.request = read_at<std::uint32_t>(header, 8);
  const std::uint32_t length = read_at<std::uint32_t>(header, 12);
  if (length > kMaxBody) {
    error = "the engine server sent a " + std::to_string(length) + "-byte message, over the limit";
    return Io::Failed;
  }
  std::string body(length, '\0');
  io = receive_bytes(socket, body.data(), body.size(), deadline, error);
  if (io != Io::Ok) return io;
  message.fields.clear();
  error = decode(body, message.fields);
  return error.empty() ? Io::Ok : Io::Failed;
}

bool idle_connection_broken(int socket) {
  pollfd p{socket, POLLIN | POLLRDHUP, 0};
  return poll(&p, 1, 0) != 0;  // an idle connection has nothing to read and no hang-up
}

}  // namespace ee::wire
