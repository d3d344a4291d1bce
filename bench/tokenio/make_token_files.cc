// make_token_files: writes a batch of N random TOTP tokens as an Entra CSV file and as a PSKC
// file encrypted with a pre-shared AES-128 key (the key goes to a separate file), for the import
// benchmark (bench/tokenio/import_bench.sh). Test data only: the CSV holds seeds in clear.
//
//   make_token_files N OUT_DIR

#include <openssl/rand.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "base/codec.h"
#include "tokenio/pskc.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_token_files N OUT_DIR\n");
    return 2;
  }
  const unsigned long count = std::stoul(argv[1]);
  const std::string dir = argv[2];
  std::ofstream csv(dir + "/batch.csv", std::ios::trunc);
  std::ofstream pskc(dir + "/batch.pskc", std::ios::trunc);
  std::ofstream key_file(dir + "/batch.psk", std::ios::trunc);
  if (!csv || !pskc || !key_file) {
    std::fprintf(stderr, "cannot write into %s\n", dir.c_str());
    return 1;
  }
  using otpd::base::SecretBytes;
  otpd::tokenio::PskcWriterOptions options;
  options.protection = otpd::tokenio::PskcProtection::kPreSharedKey;
  options.key = SecretBytes(16);
  options.key_name = "bench";
  if (RAND_bytes(options.key.data(), 16) != 1) return 1;
  key_file << otpd::base::HexEncode(options.key.span()) << "\n";
  auto writer = otpd::tokenio::PskcWriter::Create(pskc, std::move(options));
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    return 1;
  }
  csv << "upn,serial number,secret key,time interval,manufacturer,model\n";
  for (unsigned long i = 0; i < count; ++i) {
    otpd::tokenio::TokenRecord t;
    t.serial = "B" + std::to_string(1000000 + i);
    t.upn = "user" + std::to_string(i) + "@example.com";
    t.manufacturer = "Bench";
    t.model = "K20";
    t.seed = SecretBytes(20);
    if (RAND_bytes(t.seed.data(), 20) != 1) return 1;
    csv << t.upn << "," << t.serial << "," << otpd::base::Base32Encode(t.seed.span(), false)
        << ",30,Bench,K20\n";
    // The PSKC copy uses other serials, so both files can go into one data directory.
    t.serial = "P" + std::to_string(1000000 + i);
    t.upn = "puser" + std::to_string(i) + "@example.com";
    if (auto s = (*writer)->Add(t); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  if (auto s = (*writer)->Finish(); !s.ok()) return 1;
  return 0;
}
