// Fuzzes the Entra CSV and OATH CSV token file readers (tokenio/entra_csv.h, oath_csv.h), and
// the format detector, with arbitrary files. FUZZ_ENTRA selects the reader at compile time so
// that each format has its own target and corpus.

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz/fuzz_check.h"
#include "tokenio/entra_csv.h"
#include "tokenio/oath_csv.h"

namespace tokenio = otpd::tokenio;

extern "C" int OTPD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)tokenio::DetectFormat(text);
  std::istringstream in(text);
  otpd::fuzz::CheckingSink sink;
#ifdef FUZZ_ENTRA
  (void)tokenio::ParseEntraCsv(in, &sink);
#else
  (void)tokenio::ParseOathCsv(in, &sink);
#endif
  return 0;
}
