#include "server/admin/json_body.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parser.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/http/json_sax.h"

namespace otpd::server::admin {

namespace {

namespace json = boost::json;
using boost::system::error_code;

// Finds a member given twice in one object, as the body is parsed (boost::json's SAX interface);
// only member names are kept, never values (a body may hold a seed or a password).
class DuplicateMembers : public JsonSaxDefaults {
 public:
  // The path of the first duplicate ("" when none).
  const std::string& duplicate() const { return duplicate_; }

  bool on_object_begin(error_code&) {
    frames_.push_back(Frame{.object = true});
    return true;
  }
  bool on_object_end(size_t, error_code&) { return Pop(); }
  bool on_array_begin(error_code&) {
    frames_.push_back(Frame{.object = false});
    return true;
  }
  bool on_array_end(size_t, error_code&) { return Pop(); }
  bool on_key_part(std::string_view s, size_t, error_code&) {
    key_.append(s);
    return true;
  }
  bool on_key(std::string_view s, size_t, error_code& ec) {
    key_.append(s);
    Frame& top = frames_.back();
    top.key = std::move(key_);
    key_.clear();
    if (top.keys.insert(top.key).second) return true;
    duplicate_ = Path();
    ec = json::error::syntax;
    return false;
  }
  bool on_string_part(std::string_view, size_t, error_code&) { return true; }
  bool on_string(std::string_view, size_t, error_code&) { return Value(); }
  bool on_number_part(std::string_view, error_code&) { return true; }
  bool on_int64(int64_t, std::string_view, error_code&) { return Value(); }
  bool on_uint64(uint64_t, std::string_view, error_code&) { return Value(); }
  bool on_double(double, std::string_view, error_code&) { return Value(); }
  bool on_bool(bool, error_code&) { return Value(); }
  bool on_null(error_code&) { return Value(); }

 private:
  struct Frame {
    bool object = false;
    std::set<std::string, std::less<>> keys;  // objects: the members so far
    std::string key;                          // objects: the member being read
    size_t index = 0;                         // arrays: the element being read
  };

  bool Pop() {
    frames_.pop_back();
    return Value();
  }
  // A value ended: the next one in an array has the next index.
  bool Value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return true;
  }
  // "[1].assignTo.id", as FieldReader names fields.
  std::string Path() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (!f.object) {
        path += "[" + std::to_string(f.index) + "]";
        continue;
      }
      if (!path.empty()) path += ".";
      path += Printable(f.key) ? f.key : std::string("(a member)");
    }
    return path;
  }
  static bool Printable(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (unsigned char c : name) {
      if (c < 0x20 || c >= 0x7f) return false;
    }
    return true;
  }

  std::vector<Frame> frames_;
  std::string key_;
  std::string duplicate_;
};

json::parse_options Options() {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return options;
}

}  // namespace

base::StatusOr<json::value> ParseJsonBody(std::string_view body) {
  if (body.empty()) return base::InvalidArgumentError("the request needs a JSON body");
  error_code ec;
  json::parser parser({}, Options());
  const size_t used = parser.write(body.data(), body.size(), ec);
  if (ec) {
    return base::InvalidArgumentError("malformed JSON near byte " + std::to_string(used) + ": " +
                                      ec.message());
  }
  json::value value = parser.release();
  // A second pass over a document known to be well-formed, for what the parsed value hides.
  json::basic_parser<DuplicateMembers> names(Options());
  names.write_some(false, body.data(), body.size(), ec);
  if (!names.handler().duplicate().empty()) {
    return base::InvalidArgumentError(names.handler().duplicate() + " is given more than once");
  }
  return value;
}

}  // namespace otpd::server::admin
