#include "base/seal.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "base/codec.h"

namespace otpd::base {
namespace {

SecretBytes Key(uint8_t fill) {
  SecretBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(fill + i);
  return key;
}

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(SealTest, RoundTripsAllSizes) {
  auto sealer = Sealer::Create(Key(1), 7);
  ASSERT_TRUE(sealer.ok());
  for (size_t n : {0, 1, 16, 20, 64, 1000}) {
    std::vector<uint8_t> plain(n);
    for (size_t i = 0; i < n; ++i) plain[i] = static_cast<uint8_t>(i * 13);
    auto blob = sealer->Seal(plain, "aad");
    ASSERT_TRUE(blob.ok()) << blob.status();
    EXPECT_EQ(blob->size(), n + kSealOverheadBytes);
    EXPECT_EQ(SealedKeyVersion(*blob).value(), 7u);
    auto opened = sealer->Open(*blob, "aad");
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_TRUE(opened->Equals(SecretBytes(std::span<const uint8_t>(plain))));
  }
}

TEST(SealTest, NoncesAreFreshAndCiphertextHidesPlaintext) {
  auto sealer = Sealer::Create(Key(1), 1);
  auto plain = Bytes("12345678901234567890");
  std::set<std::string> blobs;
  for (int i = 0; i < 50; ++i) blobs.insert(sealer->Seal(plain, "").value());
  EXPECT_EQ(blobs.size(), 50u);
  EXPECT_EQ(blobs.begin()->find("1234567890"), std::string::npos);
}

TEST(SealTest, EveryTamperedByteIsDetected) {
  auto sealer = Sealer::Create(Key(1), 3);
  auto blob = sealer->Seal(Bytes("seed material"), "tokens/serial-1").value();
  for (size_t i = 0; i < blob.size(); ++i) {
    std::string tampered = blob;
    tampered[i] ^= 0x01;
    auto opened = sealer->Open(tampered, "tokens/serial-1");
    EXPECT_FALSE(opened.ok()) << "byte " << i;
  }
  EXPECT_TRUE(IsInvalidArgument(sealer->Open(blob.substr(0, 20), "tokens/serial-1").status()));
  EXPECT_TRUE(IsDataLoss(sealer->Open(blob + "x", "tokens/serial-1").status()));
}

TEST(SealTest, WrongAadOrKeyFailsAuthentication) {
  auto sealer = Sealer::Create(Key(1), 3);
  auto blob = sealer->Seal(Bytes("seed"), "tokens/serial-1").value();
  auto moved = sealer->Open(blob, "tokens/serial-2");
  EXPECT_TRUE(IsDataLoss(moved.status())) << moved.status();
  auto other_key = Sealer::Create(Key(2), 3);
  EXPECT_TRUE(IsDataLoss(other_key->Open(blob, "tokens/serial-1").status()));
  auto other_version = Sealer::Create(Key(1), 4);
  EXPECT_TRUE(IsFailedPrecondition(other_version->Open(blob, "tokens/serial-1").status()));
}

TEST(SealTest, ErrorsNeverContainKeyMaterial) {
  SecretBytes key = Key(0x41);
  std::string hex = HexEncode(key.span());
  std::string raw(key.view());
  auto sealer = Sealer::Create(key.Clone(), 1);
  auto bad = sealer->Open(std::string(40, '\x01'), "aad");
  ASSERT_FALSE(bad.ok());
  for (const Status& s :
       {bad.status(), sealer->Open(sealer->Seal(Bytes("x"), "a").value(), "b").status(),
        Sealer::Create(SecretBytes(16), 1).status()}) {
    EXPECT_EQ(std::string(s.message()).find(hex), std::string::npos);
    EXPECT_EQ(std::string(s.message()).find(raw), std::string::npos);
  }
}

TEST(SealTest, RejectsKeysOfTheWrongSize) {
  EXPECT_TRUE(IsInvalidArgument(Sealer::Create(SecretBytes(16), 1).status()));
  EXPECT_TRUE(IsInvalidArgument(Sealer::Create(SecretBytes(33), 1).status()));
  EXPECT_TRUE(IsInvalidArgument(SealedKeyVersion(std::string(40, '\x02')).status()));
}

}  // namespace
}  // namespace otpd::base
