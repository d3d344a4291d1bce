// The outbox on etcd, end to end: two otpd nodes on a real 3-member etcd cluster, both with the
// same exec hook. Administrative changes made through either node's admin API are events in one
// log; exactly one node (the holder of the delivery role) delivers them, in sequence order, and
// when it is killed the other takes over from the shared cursor without losing any.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "service/hooks/outbox.h"
#include "tests/e2e/etcd_nodes_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::RunResult;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The delivery role's lease: shorter than the default 10 s, so that the take-over shows the
// setting is used (and the test is quicker).
constexpr std::chrono::seconds kLeaseTtl{3};

struct Delivered {
  uint64_t seq = 0;
  std::string id;
  std::string user;
};

class EtcdOutboxTest : public EtcdNodesTest {
 protected:
  std::vector<std::string> ExtraArgs(int i) override {
    const std::string name = i == 0 ? "a" : "b";
    const std::string script = dir_.File("exec-hook");
    otpd::testing::WriteFile(script, "#!/bin/sh\n{ cat; echo; } >> \"$1\"\n");
    chmod(script.c_str(), 0700);
    events_[i] = dir_.File("events-" + name);
    const std::string config = dir_.File("otpd-" + name + ".toml");
    otpd::testing::WriteFile(config,
                             "[actions]\nscrypt_log2_n = 10\n"
                             "[hooks.exec]\ntype = \"exec\"\ncommand = [\"" +
                                 script + "\", \"" + events_[i] +
                                 "\"]\nretry_initial_ms = 50\nretry_max_ms = 200\n");
    sockets_[i] = dir_.File("admin-" + name + ".sock");
    return {"--config",       config,        "--admin-socket",   sockets_[i],
            "--admin-listen", "127.0.0.1:0", "--etcd-lease-ttl", std::to_string(kLeaseTtl.count())};
  }

  HttpClient Admin(int i) { return HttpClient::Unix(sockets_[i]); }

  // otpctl against node i: through its admin socket as the owner, or over its loopback HTTP
  // listener with the API key in `key_file`.
  RunResult Otpctl(int i, std::vector<std::string> args, const std::string& key_file = "") {
    args.insert(args.begin(), OTPCTL_PATH);
    if (key_file.empty()) {
      args.insert(args.end(), {"--admin-socket", sockets_[i]});
    } else {
      args.insert(args.end(),
                  {"--admin", "http://127.0.0.1:" + std::to_string(nodes_[i].admin_port()),
                   "--api-key-file", key_file});
    }
    return otpd::testing::Run(
        args, {"OTPD_API_KEY", "OTPD_MASTER_KEY", "OTPD_KEY_FILE", "OTPD_DATA_DIR"});
  }

  // What node i's hook received so far, in the order it received it.
  std::vector<Delivered> Received(int i) {
    std::vector<Delivered> out;
    struct stat st {};
    if (stat(events_[i].c_str(), &st) != 0) return out;
    std::istringstream lines(otpd::testing::ReadFile(events_[i]));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      boost::json::object e = boost::json::parse(line).as_object();
      out.push_back(Delivered{
          .seq = static_cast<uint64_t>(e.at("seq").to_number<int64_t>()),
          .id = std::string(e.at("id").as_string()),
          .user = e.contains("user") ? std::string(e.at("user").as_string()) : std::string()});
    }
    return out;
  }

  // The events the outbox holds: seq -> id.
  std::map<uint64_t, std::string> Outbox() {
    std::map<uint64_t, std::string> out;
    auto store = OpenAdminStore();
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return out;
    base::Status s = service::ReadEvents(*store->store, 0, 100000, [&](service::OutboxEvent e) {
      out[e.seq] = e.id;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  // Through node i's admin API: adds an e-mail method to `upn` when it has none (a method.added
  // event), else deletes it (method.deleted).
  void ChangeEmail(int i, const std::string& upn) {
    const std::string path = "/v1.0/users/" + upn + "/authentication/emailMethods";
    auto it = email_ids_.find(upn);
    if (it == email_ids_.end()) {
      HttpReply r = Admin(i).Post(path, boost::json::object{{"emailAddress", "m@example.org"}});
      ASSERT_EQ(r.status, 201) << r.body << r.error;
      email_ids_[upn] = std::string(r.Json().as_object().at("id").as_string());
    } else {
      HttpReply r = Admin(i).Delete(path + "/" + it->second);
      ASSERT_EQ(r.status, 204) << r.body << r.error;
      email_ids_.erase(it);
    }
  }

  // Waits until the hooks (of both nodes together) received every event of the outbox.
  bool WaitForAll(std::chrono::seconds limit, std::map<uint64_t, std::string>* outbox) {
    const auto until = Clock::now() + limit;
    for (;;) {
      *outbox = Outbox();
      std::set<uint64_t> got;
      for (int i = 0; i < 2; ++i) {
        for (const Delivered& d : Received(i)) got.insert(d.seq);
      }
      bool all = true;
      for (const auto& [seq, id] : *outbox) all = all && (seq <= base_ || got.contains(seq));
      if (all) return true;
      if (Clock::now() > until) return false;
      std::this_thread::sleep_for(200ms);
    }
  }

  // Checks what node i delivered: each event is one of the outbox's (same id), every user's
  // events in sequence order, and the sequence never goes back except to repeat events (a
  // take-over may repeat the last ones before the cursor was recorded).
  void CheckOrder(int i, const std::map<uint64_t, std::string>& outbox) {
    std::map<std::string, uint64_t> last_per_user;
    uint64_t last = 0;
    for (const Delivered& d : Received(i)) {
      auto it = outbox.find(d.seq);
      ASSERT_NE(it, outbox.end()) << "node " << i << " delivered unknown event " << d.seq;
      EXPECT_EQ(it->second, d.id) << d.seq;
      EXPECT_GT(d.seq, last) << "node " << i << " delivered out of order";
      last = d.seq;
      EXPECT_GT(d.seq, last_per_user[d.user]) << d.user;
      last_per_user[d.user] = d.seq;
    }
  }

  std::string events_[2];
  std::string sockets_[2];
  std::map<std::string, std::string> email_ids_;  // upn -> its e-mail method's id
  uint64_t base_ = 0;  // events before the test's (the import's): the hooks start after them
};

TEST_F(EtcdOutboxTest, OneNodeDeliversEveryEventInOrderAndTheOtherTakesOver) {
  // A subscriber on node B sees the events made through node A too.
  otpd::testing::LineClient subscriber = Node(1);
  const std::string ok = subscriber.Call("SUBSCRIBE\ts1\tfrom=1");
  ASSERT_EQ(otpd::testing::Fields(ok)[0], "OK") << ok;
  {
    auto store = OpenAdminStore();
    ASSERT_TRUE(store.ok()) << store.status();
    auto last = service::LastEventSequence(*store->store);
    ASSERT_TRUE(last.ok()) << last.status();
    base_ = *last;
  }

  const std::vector<std::string> users = {"hook1@example.com", "hook2@example.com",
                                          "hook3@example.com"};
  for (size_t u = 0; u < users.size(); ++u) {
    HttpReply r =
        Admin(static_cast<int>(u % 2)).Put("/v1.0/users/" + users[u], boost::json::object{});
    ASSERT_EQ(r.status, 201) << r.body << r.error;
  }
  for (int round = 0; round < 4; ++round) {
    for (size_t u = 0; u < users.size(); ++u)
      ChangeEmail((round + static_cast<int>(u)) % 2, users[u]);
  }
  std::map<uint64_t, std::string> outbox;
  ASSERT_TRUE(WaitForAll(30s, &outbox)) << nodes_[0].log() << nodes_[1].log();
  ASSERT_GE(outbox.size(), base_ + 12);
  EXPECT_EQ(outbox.begin()->first, 1u);
  EXPECT_EQ(outbox.rbegin()->first, outbox.size()) << "the outbox has gaps";
  // One node delivered them all, once each.
  const std::vector<Delivered> a = Received(0), b = Received(1);
  ASSERT_TRUE(a.empty() != b.empty()) << a.size() << " and " << b.size();
  const int delivering = a.empty() ? 1 : 0;
  EXPECT_EQ(Received(delivering).size(), outbox.size() - base_);
  CheckOrder(delivering, outbox);

  // The subscriber on B saw every event, in order.
  uint64_t previous = 0;
  for (std::string line = subscriber.ReadLine(5s); !line.empty(); line = subscriber.ReadLine(1s)) {
    const auto fields = otpd::testing::Fields(line);
    ASSERT_EQ(fields[0], "EVENT") << line;
    EXPECT_EQ(std::stoull(fields[1]), previous + 1) << line;
    previous = std::stoull(fields[1]);
    if (previous == outbox.size()) break;
  }
  EXPECT_EQ(previous, outbox.size());

  // kill -9 the delivering node; changes through the other one reach its hook once it took the
  // role over (once the role's lease ran out).
  const int other = 1 - delivering;
  nodes_[delivering].Stop(SIGKILL);
  const auto killed = Clock::now();
  for (int round = 0; round < 2; ++round) {
    for (const std::string& upn : users) ChangeEmail(other, upn);
  }
  ASSERT_TRUE(WaitForAll(40s, &outbox)) << nodes_[other].log();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed);
  std::printf("take-over: every event delivered %lld ms after the kill\n",
              static_cast<long long>(took.count()));
  // The lease, the other node's once-a-second attempt and a retry of the hook; the default
  // lease alone (10 s) would not fit.
  EXPECT_LT(took, kLeaseTtl * 3) << "the take-over did not follow --etcd-lease-ttl";
  EXPECT_EQ(outbox.rbegin()->first, outbox.size()) << "the outbox has gaps";
  CheckOrder(other, outbox);
  EXPECT_FALSE(Received(other).empty());
}

// otpctl gives the same answers whichever node it talks to: an API key made through node A is
// valid on node B (keys are kept in etcd), a user added on A is shown on B, tokens imported on B
// are listed on A.
TEST_F(EtcdOutboxTest, OtpctlGivesTheSameAnswersOnEitherNode) {
  auto has = [](const RunResult& r, const std::string& text) {
    return r.out.find(text) != std::string::npos;
  };
  // Keys made through each node's admin socket, as the owner.
  auto make_key = [&](int node, const std::string& name, const std::string& role) {
    HttpReply r = Admin(node).Post(
        "/v1.0/admin/apiKeys",
        boost::json::object{{"name", name},
                            {"roles", boost::json::array{boost::json::string(role)}}});
    EXPECT_EQ(r.status, 201) << r.body << r.error;
    const std::string path = dir_.File(name + ".apikey");
    boost::json::value v = r.Json();
    otpd::testing::WriteFile(path, v.is_object() && v.as_object().contains("key")
                                       ? std::string(v.at("key").as_string()) + "\n"
                                       : std::string());
    chmod(path.c_str(), 0600);
    return path;
  };
  const std::string helpdesk = make_key(0, "helpdesk", "privileged_authentication_administrator");
  const std::string inventory = make_key(1, "inventory", "authentication_policy_administrator");

  RunResult add =
      Otpctl(0, {"user", "add", "olga@example.com", "--display-name", "Olga"}, helpdesk);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  RunResult show_a = Otpctl(0, {"user", "show", "olga@example.com"}, helpdesk);
  RunResult show_b = Otpctl(1, {"user", "show", "olga@example.com"}, helpdesk);
  ASSERT_EQ(show_b.exit_code, 0) << show_b.err;
  EXPECT_TRUE(has(show_b, "Olga")) << show_b.out;
  EXPECT_EQ(show_a.out, show_b.out);
  RunResult dup = Otpctl(1, {"user", "add", "olga@example.com"}, helpdesk);
  EXPECT_EQ(dup.exit_code, 1) << dup.out;

  const std::string csv = dir_.File("tokens.csv");
  otpd::testing::WriteFile(csv,
                           "upn,serial number,secret key,time interval,manufacturer,model\n"
                           ",OT1,MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U,30,Acme,K1\n"
                           ",OT2,KRUGKIDROVUWG2ZAMJZG653OEBTG66BA,30,Acme,K1\n");
  RunResult import = Otpctl(1, {"import", csv}, inventory);
  ASSERT_EQ(import.exit_code, 0) << import.err;
  RunResult list_a = Otpctl(0, {"token", "list", "--status", "available"}, inventory);
  RunResult list_b = Otpctl(1, {"token", "list", "--status", "available"}, inventory);
  ASSERT_EQ(list_a.exit_code, 0) << list_a.err;
  EXPECT_TRUE(has(list_a, "OT1") && has(list_a, "OT2")) << list_a.out;
  EXPECT_EQ(list_a.out, list_b.out);
  EXPECT_EQ(list_a.out.find("MFRGGZDF"), std::string::npos) << "a seed in the output";
}

}  // namespace
}  // namespace otpd::e2e
