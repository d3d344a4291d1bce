// What the product's boost::json SAX handlers (boost::json::basic_parser) share: no size limits of
// their own (the parser's max_depth and the HTTP body limit bound the input), and nothing to do at
// the document's ends or for comments. A handler derives from JsonSaxDefaults and defines the
// value and key callbacks it cares about.
//
// Thread-safety: none needed; a handler belongs to one parse.

#ifndef OTPD_SERVER_HTTP_JSON_SAX_H_
#define OTPD_SERVER_HTTP_JSON_SAX_H_

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string_view>

namespace otpd::server {

struct JsonSaxDefaults {
  static constexpr size_t max_object_size = size_t(-1);
  static constexpr size_t max_array_size = size_t(-1);
  static constexpr size_t max_key_size = size_t(-1);
  static constexpr size_t max_string_size = size_t(-1);

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_HTTP_JSON_SAX_H_
