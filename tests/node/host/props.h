// The test host's property sets: typed, indexed values by name, as the OFX property
// suite sees them. One set belongs to one object; sets shared between threads (the
// host descriptor) are only written before rendering starts.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

struct Property {
  char type = 0;  // 's' string, 'd' double, 'i' int, 'p' pointer
  std::vector<std::string> s;
  std::vector<double> d;
  std::vector<int> i;
  std::vector<void *> p;
  int size() const {
    return static_cast<int>(type == 's' ? s.size() : type == 'd' ? d.size() : type == 'i' ? i.size() : p.size());
  }
};

struct PropertySet {
  std::string kind;  // what it describes, for error lines
  std::map<std::string, Property> values;
  std::mutex mutex;  // the plugin may read and write an instance's sets from several threads

  void set_string(const std::string &name, std::vector<std::string> v) {
    Property &p = values[name];
    p.type = 's';
    p.s = std::move(v);
  }
  void set_int(const std::string &name, std::vector<int> v) {
    Property &p = values[name];
    p.type = 'i';
    p.i = std::move(v);
  }
  void set_double(const std::string &name, std::vector<double> v) {
    Property &p = values[name];
    p.type = 'd';
    p.d = std::move(v);
  }
  void set_pointer(const std::string &name, void *v) {
    Property &p = values[name];
    p.type = 'p';
    p.p = {v};
  }
  const Property *find(const std::string &name) const {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
};
