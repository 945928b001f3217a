// The engine server's wire protocol, node side (the server's is
// python/emotionedit/server/protocol.py; a test checks the constants agree).
//
// A message is a 16-byte header (magic "EEsv", uint16 protocol, uint16 kind, uint32
// request, uint32 body length; little-endian; frozen for every protocol version) and a
// body of named, typed fields. An ERROR reply's body is always one text field "message",
// also frozen, so a node and a server of different versions can read each other's
// refusal. All socket I/O here has a deadline and never raises SIGPIPE.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ee::wire {

using Deadline = std::chrono::steady_clock::time_point;

constexpr char kMagic[4] = {'E', 'E', 's', 'v'};
constexpr std::uint16_t kProtocol = 1;  // bumped whenever a message or field changes meaning
constexpr std::size_t kHeaderBytes = 16;
constexpr std::size_t kMaxBody = 64 * 1024;
constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxString = 16 * 1024;
constexpr std::size_t kMaxBytes = 256;
constexpr std::size_t kMaxArray = 16;

enum Kind : std::uint16_t { kHello = 1, kSegment = 2, kRender = 3, kPurge = 4, kError = 255 };

// A message body being written.
class Fields {
 public:
  void put(const std::string &name, long long value);
  void put(const std::string &name, double value);
  void put(const std::string &name, const std::string &value);
  void put_bytes(const std::string &name, const void *data, std::size_t size);
  void put_ints(const std::string &name, const std::vector<long long> &values);
  void put_doubles(const std::string &name, const std::vector<double> &values);
  const std::string &body() const { return body_; }

 private:
  void name(const std::string &name, char type);
  std::string body_;
};

// A decoded field.
struct Value {
  char type = 0;  // 'i', 'f', 's', 'b', 'I', 'F'
  long long i = 0;
  double f = 0.0;
  std::string s;  // 's' and 'b'
  std::vector<long long> ints;
  std::vector<double> doubles;
};

struct Message {
  std::uint16_t protocol = 0;
  std::uint16_t kind = 0;
  std::uint32_t request = 0;
  std::map<std::string, Value> fields;

  // A field's value, or the fallback when it is missing or of another type.
  long long integer(const std::string &name, long long fallback = 0) const;
  std::string text(const std::string &name, const std::string &fallback = "") const;
};

// Decode a body; "" on success, else what is wrong with it. Every length is checked.
std::string decode(const std::string &body, std::map<std::string, Value> &out);

enum class Io { Ok, Timeout, Closed, Failed };

// Send one message, with a file descriptor attached (SCM_RIGHTS) when pass_fd >= 0.
Io send(int socket, std::uint16_t kind, std::uint32_t request, const Fields &fields, int pass_fd, Deadline deadline,
        std::string &error);

// Receive one message. A malformed one is Io::Failed with the reason in error.
Io receive(int socket, Message &message, Deadline deadline, std::string &error);

// Has the peer hung up (or sent something) on a connection that should be idle?
bool idle_connection_broken(int socket);

}  // namespace ee::wire
