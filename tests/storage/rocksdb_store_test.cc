// RocksDB-specific behaviour: persistence, the clear open errors, checkpoints, crash safety.

#include "storage/rocksdb/rocksdb_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "storage/memory_store.h"
#include "tests/storage/test_util.h"

namespace otpd::storage {
namespace {

using testing::TempDir;

RocksDbOptions Options(const std::string& path) {
  RocksDbOptions o;
  o.path = path;
  o.block_cache_bytes = 8 << 20;
  return o;
}

std::unique_ptr<RocksDbStore> OpenOrDie(const std::string& path) {
  auto store = RocksDbStore::Open(Options(path));
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

void PutOrDie(Store& store, Namespace ns, const std::string& key, const std::string& value) {
  WriteBatch b;
  b.Put(ns, key, value);
  ASSERT_TRUE(store.Commit(std::move(b), Durability::kDurable).ok());
}

// Every record of every namespace, for comparing whole stores.
std::map<std::pair<int, std::string>, Record> Dump(const Store& store) {
  std::map<std::pair<int, std::string>, Record> all;
  for (Namespace ns : AllNamespaces()) {
    EXPECT_TRUE(store
                    .Scan(ns, "",
                          [&](std::string_view key, const Record& r) {
                            all[{static_cast<int>(ns), std::string(key)}] = r;
                            return true;
                          })
                    .ok());
  }
  return all;
}

// A child process running tests/storage/crash_child.cc with pipes to its stdin and stdout.
struct Child {
  pid_t pid = -1;
  int in = -1;   // write end of the child's stdin
  int out = -1;  // read end of the child's stdout

  static Child Spawn(const char* mode, const std::string& dir) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) std::abort();
    Child c;
    c.pid = fork();
    if (c.pid == 0) {
      dup2(to_child[0], STDIN_FILENO);
      dup2(from_child[1], STDOUT_FILENO);
      execl(OTPD_STORAGE_CRASH_CHILD, OTPD_STORAGE_CRASH_CHILD, mode, dir.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    c.in = to_child[1];
    c.out = from_child[0];
    return c;
  }

  // Reads one line (blocking); empty at EOF.
  std::string ReadLine() {
    std::string line;
    char ch;
    while (read(out, &ch, 1) == 1) {
      if (ch == '\n') return line;
      line.push_back(ch);
    }
    return line;
  }

  int Wait() {
    if (in >= 0) close(in);
    int status = 0;
    waitpid(pid, &status, 0);
    if (out >= 0) close(out);
    in = out = -1;
    return status;
  }
};

TEST(RocksDbStoreTest, ReopenKeepsDataAndVersions) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.File("db"));
    PutOrDie(*store, Namespace::kTokens, "serial-1", "inventory");
    PutOrDie(*store, Namespace::kState, "cred-1", "w1");
    PutOrDie(*store, Namespace::kState, "cred-1", "w2");
    WriteBatch relaxed;  // relaxed commits survive a clean close too
    relaxed.Put(Namespace::kAudit, "0001", "event");
    ASSERT_TRUE(store->Commit(std::move(relaxed), Durability::kRelaxed).ok());
  }
  auto store = OpenOrDie(dir.File("db"));
  EXPECT_EQ(*store->Get(Namespace::kTokens, "serial-1").value(), (Record{"inventory", 1}));
  EXPECT_EQ(*store->Get(Namespace::kState, "cred-1").value(), (Record{"w2", 2}));
  EXPECT_EQ(*store->Get(Namespace::kAudit, "0001").value(), (Record{"event", 1}));
  PutOrDie(*store, Namespace::kState, "cred-1", "w3");
  EXPECT_EQ(store->Get(Namespace::kState, "cred-1").value()->version, 3u);
}

TEST(RocksDbStoreTest, MissingDirectoryWithoutCreateIsNotFound) {
  TempDir dir;
  RocksDbOptions o = Options(dir.File("absent"));
  o.create_if_missing = false;
  auto store = RocksDbStore::Open(o);
  ASSERT_TRUE(base::IsNotFound(store.status())) << store.status();
  EXPECT_NE(store.status().message().find(dir.File("absent")), std::string_view::npos);
}

TEST(RocksDbStoreTest, ReadOnlyOpenReadsAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.File("db");
  {
    auto store = OpenOrDie(path);
    PutOrDie(*store, Namespace::kTokens, "t1", "v1");
  }
  auto listing = [&] {
    std::map<std::string, std::pair<uintmax_t, int64_t>> out;
    for (const auto& e : std::filesystem::directory_iterator(path)) {
      out[e.path().filename().string()] = {e.file_size(),
                                           e.last_write_time().time_since_epoch().count()};
    }
    return out;
  };
  const auto before = listing();
  RocksDbOptions options = Options(path);
  options.read_only = true;
  {
    auto store = RocksDbStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    auto got = (*store)->Get(Namespace::kTokens, "t1");
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->value, "v1");
    WriteBatch b;
    b.Put(Namespace::kTokens, "t2", "v2");
    base::Status s = (*store)->Commit(std::move(b), Durability::kDurable);
    EXPECT_TRUE(base::IsFailedPrecondition(s)) << s;
    EXPECT_NE(s.message().find("read-only"), std::string_view::npos) << s;
  }
  EXPECT_EQ(listing(), before);
  // A missing directory is not created.
  options.path = dir.File("missing");
  EXPECT_TRUE(base::IsNotFound(RocksDbStore::Open(options).status()));
  EXPECT_FALSE(std::filesystem::exists(dir.File("missing")));
}

TEST(RocksDbStoreTest, SecondOpenInTheSameProcessIsRefusedClearly) {
  TempDir dir;
  auto first = OpenOrDie(dir.File("db"));
  auto second = RocksDbStore::Open(Options(dir.File("db")));
  ASSERT_TRUE(base::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_EQ(second.status().message(), "data directory " + dir.File("db") +
                                           " is in use by another process (is otpd running?)");
  first.reset();
  EXPECT_TRUE(RocksDbStore::Open(Options(dir.File("db"))).ok());  // released on close
}

TEST(RocksDbStoreTest, OpenWhileAnotherProcessHoldsItIsRefusedClearly) {
  TempDir dir;
  Child holder = Child::Spawn("hold", dir.File("db"));
  ASSERT_EQ(holder.ReadLine(), "ready");
  auto second = RocksDbStore::Open(Options(dir.File("db")));
  ASSERT_TRUE(base::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_EQ(second.status().message(), "data directory " + dir.File("db") +
                                           " is in use by another process (is otpd running?)");
  // A read-only open needs no lock: it works beside the writer.
  RocksDbOptions read_only = Options(dir.File("db"));
  read_only.read_only = true;
  EXPECT_TRUE(RocksDbStore::Open(read_only).ok());
  int status = holder.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(RocksDbStore::Open(Options(dir.File("db"))).ok());
}

TEST(RocksDbStoreTest, ForeignRocksDbIsRefusedAndLeftAlone) {
  TempDir dir;
  testing::CreateForeignRocksDb(dir.File("foreign"));
  auto files_before = std::distance(std::filesystem::directory_iterator(dir.File("foreign")), {});
  auto store = RocksDbStore::Open(Options(dir.File("foreign")));
  ASSERT_TRUE(base::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_NE(store.status().message().find("data directory " + dir.File("foreign") +
                                          " is not an otpd data directory"),
            std::string_view::npos)
      << store.status();
  auto files_after = std::distance(std::filesystem::directory_iterator(dir.File("foreign")), {});
  EXPECT_EQ(files_before, files_after);
}

TEST(RocksDbStoreTest, NonEmptyDirectoryWithoutDatabaseIsRefused) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("home"));
  std::ofstream(dir.File("home") + "/notes.txt") << "not a database";
  auto store = RocksDbStore::Open(Options(dir.File("home")));
  ASSERT_TRUE(base::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_NE(store.status().message().find("is not an otpd data directory"), std::string_view::npos);

  // A key file next to the database does not make the directory foreign.
  std::filesystem::create_directory(dir.File("with-key"));
  std::ofstream(dir.File("with-key") + "/master.key") << "k";
  EXPECT_TRUE(RocksDbStore::Open(Options(dir.File("with-key"))).ok());
}

TEST(RocksDbStoreTest, NewerSchemaIsRefused) {
  TempDir dir;
  { OpenOrDie(dir.File("db")); }
  testing::SetSchemaVersion(dir.File("db"), "2");
  auto store = RocksDbStore::Open(Options(dir.File("db")));
  ASSERT_TRUE(base::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_NE(
      store.status().message().find("has schema version 2, newer than this otpd supports (1)"),
      std::string_view::npos)
      << store.status();
  testing::SetSchemaVersion(dir.File("db"), "1");
  EXPECT_TRUE(RocksDbStore::Open(Options(dir.File("db"))).ok());
}

TEST(RocksDbStoreTest, CorruptDirectoryIsDataLoss) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.File("db"));
    PutOrDie(*store, Namespace::kUsers, "u", "v");
  }
  // Damaged metadata: the MANIFEST overwritten with garbage.
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("db"))) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      std::ofstream(entry.path(), std::ios::trunc) << std::string(300, '\x5a');
    }
  }
  auto damaged = RocksDbStore::Open(Options(dir.File("db")));
  ASSERT_TRUE(base::IsDataLoss(damaged.status())) << damaged.status();
  EXPECT_NE(damaged.status().message().find("data directory " + dir.File("db") + " is corrupt"),
            std::string_view::npos);
  // Missing metadata: CURRENT names a MANIFEST that does not exist.
  std::ofstream(dir.File("db") + "/CURRENT", std::ios::trunc) << "MANIFEST-999999\n";
  auto missing = RocksDbStore::Open(Options(dir.File("db")));
  ASSERT_TRUE(base::IsDataLoss(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find(dir.File("db")), std::string_view::npos);
}

TEST(RocksDbStoreTest, CheckpointRestoresAnEqualStore) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("db"));
  for (int i = 0; i < 300; ++i) {
    WriteBatch b;
    b.Put(Namespace::kTokens, "serial-" + std::to_string(i), std::string(100, 'x'));
    b.Put(Namespace::kState, "cred-" + std::to_string(i % 17), std::to_string(i));
    b.Put(Namespace::kMeta, "cursor", std::to_string(i));
    ASSERT_TRUE(
        store->Commit(std::move(b), i % 3 ? Durability::kRelaxed : Durability::kDurable).ok());
  }
  auto before = Dump(*store);
  ASSERT_TRUE(store->Backup(dir.File("backup")).ok());
  PutOrDie(*store, Namespace::kState, "cred-1", "after-backup");
  EXPECT_TRUE(base::IsAlreadyExists(store->CreateCheckpoint(dir.File("backup"))));
  store.reset();

  auto restored = OpenOrDie(dir.File("backup"));
  EXPECT_EQ(Dump(*restored), before);
  EXPECT_EQ(before.size(), 300u + 17u + 1u);
  // The restored copy is a full data directory: it takes writes and keeps versions going.
  PutOrDie(*restored, Namespace::kMeta, "cursor", "next");
  EXPECT_EQ(restored->Get(Namespace::kMeta, "cursor").value()->version, 301u);

  MemoryStore memory;
  EXPECT_TRUE(base::IsUnimplemented(memory.Backup(dir.File("nope"))));
}

// A child commits durable watermarks in a loop and reports each acknowledged one; it is killed
// with SIGKILL at a random moment. After every kill, every acknowledged watermark must be there,
// all four keys of a batch must agree (atomicity) and no watermark may go backwards.
TEST(RocksDbStoreTest, AcknowledgedDurableCommitsSurviveSigkill) {
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(20, 250);
  uint64_t previous = 0, total_acked = 0;
  int iterations_with_acks = 0;
  constexpr int kIterations = 25;
  for (int iter = 0; iter < kIterations; ++iter) {
    Child child = Child::Spawn("run", dir.File("db"));
    std::string start = child.ReadLine();
    ASSERT_EQ(start.rfind("start ", 0), 0u) << "child failed to start: " << start;
    EXPECT_EQ(std::stoull(start.substr(6)), previous);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(child.pid, SIGKILL);
    uint64_t max_acked = 0, acked = 0;
    for (std::string line = child.ReadLine(); !line.empty(); line = child.ReadLine()) {
      uint64_t n = std::stoull(line);
      EXPECT_GT(n, max_acked) << "acknowledgements out of order";
      max_acked = n;
      ++acked;
    }
    int status = child.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited early";

    auto store = OpenOrDie(dir.File("db"));
    ASSERT_NE(store, nullptr);
    std::string wm0;
    for (int k = 0; k < 4; ++k) {
      auto r = store->Get(Namespace::kState, "wm/" + std::to_string(k));
      ASSERT_TRUE(r.ok()) << r.status();
      std::string value = r->has_value() ? (*r)->value : "0";
      if (k == 0) wm0 = value;
      EXPECT_EQ(value, wm0) << "batch applied partially";
    }
    uint64_t recovered = std::stoull(wm0);
    EXPECT_GE(recovered, max_acked) << "an acknowledged durable commit was lost";
    EXPECT_GE(recovered, previous) << "a watermark went backwards";
    previous = recovered;
    total_acked += acked;
    if (acked > 0) ++iterations_with_acks;
  }
  // Guard against a vacuous pass: the child must actually have committed under the knife.
  EXPECT_GT(total_acked, 100u);
  EXPECT_GE(iterations_with_acks, kIterations / 2);
}

// The outbox's numbering under the knife: a child commits batches that each append one record
// to the log, 32 in flight, and is killed with SIGKILL at a random moment, again and again on the
// same directory. After every kill the log holds exactly the records 1..N under consecutive
// numbers (no gap, no number used twice, none lost that was acknowledged), the counter says N,
// the batches' other keys agree with N (the append committed with its batch), and the numbering
// goes on from N + 1 after the restart.
TEST(RocksDbStoreTest, LogNumbersStayGapFreeAcrossSigkill) {
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(20, 200);
  uint64_t previous = 0, total_acked = 0;
  constexpr int kIterations = 15;
  for (int iter = 0; iter < kIterations; ++iter) {
    Child child = Child::Spawn("log", dir.File("db"));
    std::string start = child.ReadLine();
    ASSERT_EQ(start.rfind("start ", 0), 0u) << "child failed to start: " << start;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(child.pid, SIGKILL);
    std::set<uint64_t> acked;
    for (std::string line = child.ReadLine(); !line.empty(); line = child.ReadLine()) {
      acked.insert(std::stoull(line));
    }
    int status = child.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited early";
    total_acked += acked.size();

    auto store = OpenOrDie(dir.File("db"));
    ASSERT_NE(store, nullptr);
    auto wm = store->Get(Namespace::kState, "wm/0");
    ASSERT_TRUE(wm.ok());
    const uint64_t batches = wm->has_value() ? std::stoull((*wm)->value) : 0;
    std::vector<uint64_t> numbers;
    std::set<std::string> values;
    ASSERT_TRUE(store
                    ->Scan(Namespace::kOutbox, "",
                           [&](std::string_view key, const Record& r) {
                             if (auto n = ParseLogKey(key)) {
                               numbers.push_back(*n);
                               values.insert(r.value);
                             }
                             return true;
                           })
                    .ok());
    ASSERT_EQ(numbers.size(), batches) << "the log and the batches' keys disagree";
    for (size_t i = 0; i < numbers.size(); ++i) {
      ASSERT_EQ(numbers[i], i + 1) << "a gap or a reused number in the log";
    }
    // Every batch's record is there once (values 1..N, whatever order the batches committed in).
    ASSERT_EQ(values.size(), batches);
    for (uint64_t v : acked) {
      EXPECT_TRUE(values.contains(std::to_string(v))) << "acknowledged record " << v << " lost";
    }
    auto counter = store->Get(Namespace::kOutbox, kLogCounterKey);
    ASSERT_TRUE(counter.ok());
    EXPECT_EQ(counter->has_value() ? ParseLogCounter((*counter)->value).value_or(0) : 0, batches);
    EXPECT_GE(batches, previous);
    previous = batches;
  }
  // After the last kill the numbering goes on where it stopped.
  auto store = OpenOrDie(dir.File("db"));
  WriteBatch b;
  b.AppendToLog(Namespace::kOutbox, "after");
  ASSERT_TRUE(store->Commit(std::move(b), Durability::kDurable).ok());
  auto next = store->Get(Namespace::kOutbox, LogKey(previous + 1));
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->value, "after");
  EXPECT_GT(total_acked, 100u);  // the child did commit under the knife
}

}  // namespace
}  // namespace otpd::storage
