#include "tokenio/qr.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>
#include <string>

namespace otpd::tokenio {
namespace {

constexpr int kQuiet = 4;

struct QrDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};
using QrPtr = std::unique_ptr<QRcode, QrDeleter>;

base::StatusOr<QrPtr> Encode(std::string_view text) {
  std::string copy(text);  // libqrencode wants a NUL-terminated string
  QrPtr code(QRcode_encodeString8bit(copy.c_str(), 0, QR_ECLEVEL_M));
  base::Wipe(copy.data(), copy.size());
  if (!code) {
    return errno == ERANGE ? base::InvalidArgumentError("the text is too long for a QR code")
                           : base::InternalError("QR encoding failed");
  }
  return code;
}

// True for a dark module at (x, y), counting the quiet zone (which is light).
bool Dark(const QRcode& code, int x, int y) {
  x -= kQuiet;
  y -= kQuiet;
  if (x < 0 || y < 0 || x >= code.width || y >= code.width) return false;
  return (code.data[y * code.width + x] & 1) != 0;
}

base::SecretBytes Take(std::string& text) {
  base::SecretBytes out = base::SecretBytes::FromString(text);
  base::Wipe(text.data(), text.size());
  return out;
}

}  // namespace

base::StatusOr<base::SecretBytes> QrSvg(std::string_view text) {
  OTPD_ASSIGN_OR_RETURN(QrPtr code, Encode(text));
  const int size = code->width + 2 * kQuiet;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(size) + " " + std::to_string(size) +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
                    "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      if (Dark(*code, x, y)) {
        svg += "M" + std::to_string(x) + " " + std::to_string(y) + "h1v1h-1z";
      }
    }
  }
  svg += "\"/></svg>\n";
  return Take(svg);
}

base::StatusOr<base::SecretBytes> QrTerminal(std::string_view text) {
  OTPD_ASSIGN_OR_RETURN(QrPtr code, Encode(text));
  const int size = code->width + 2 * kQuiet;
  std::string out;
  for (int y = 0; y < size; y += 2) {
    for (int x = 0; x < size; ++x) {
      const bool top = !Dark(*code, x, y);
      const bool bottom = y + 1 < size && !Dark(*code, x, y + 1);
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    out += "\n";
  }
  return Take(out);
}

}  // namespace otpd::tokenio
