#include "tests/testing/slapd_server.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <thread>
#include <vector>

namespace otpd::testing {
namespace {

constexpr const char* kSlapd = "/usr/sbin/slapd";
constexpr const char* kSlapadd = "/usr/sbin/slapadd";
constexpr const char* kLdapModify = "/usr/bin/ldapmodify";
constexpr const char* kLdapSearch = "/usr/bin/ldapsearch";

// Active Directory's two attributes the directory source reads, under the documentation
// enterprise number (RFC 5612), and a class to hang them on.
constexpr const char* kAdSchema = R"(
attributetype ( 1.3.6.1.4.1.32473.1.1 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.2 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.2.1 NAME 'otpdTestAdUser' AUXILIARY
  MAY ( userPrincipalName $ userAccountControl ) )
)";

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned b = rd() & 0xff;
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace

SlapdServer::SlapdServer(SlapdOptions options)
    : options_(std::move(options)), admin_password_(RandomHex(16)) {}

SlapdServer::~SlapdServer() { Stop(); }

std::string SlapdServer::Binary() { return access(kSlapd, X_OK) == 0 ? kSlapd : ""; }

std::string SlapdServer::url() const { return "ldap://127.0.0.1:" + std::to_string(port_); }
std::string SlapdServer::ldaps_url() const {
  return "ldaps://127.0.0.1:" + std::to_string(ldaps_port_);
}

std::string SlapdServer::log() const { return ReadFile(dir_.File("slapd.log")); }

bool SlapdServer::WriteConfig(std::string* error) {
  if (configured_) return true;
  if (Binary().empty()) {
    *error = "slapd is not installed (Debian: slapd and ldap-utils)";
    return false;
  }
  const std::string& d = dir_.path();
  mkdir((d + "/db").c_str(), 0700);
  WriteFile(d + "/test-ad.schema", kAdSchema);
  WritePrivateFile(d + "/admin.pw", admin_password_);  // ldapmodify -y: no newline
  const bool tls = !options_.cert_file.empty();
  std::string conf;
  for (const char* schema : {"core", "cosine", "inetorgperson"}) {
    conf += std::string("include /etc/ldap/schema/") + schema + ".schema\n";
  }
  conf += "include " + d + "/test-ad.schema\n";
  conf += "pidfile " + d + "/slapd.pid\nargsfile " + d + "/slapd.args\n";
  conf += "modulepath /usr/lib/ldap\nmoduleload back_mdb\n";
  // As Active Directory does: at most 500 entries without paging, any number page by page.
  conf += "sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited\n";
  if (tls) {
    conf += "TLSCertificateFile " + options_.cert_file + "\n";
    conf += "TLSCertificateKeyFile " + options_.key_file + "\n";
  }
  conf += "database mdb\nmaxsize 1073741824\n";
  conf += "suffix \"" + options_.suffix + "\"\n";
  conf += "rootdn \"" + admin_dn() + "\"\nrootpw " + admin_password_ + "\n";
  conf += "directory " + d + "/db\n";
  conf += "index objectClass eq\nindex uid,mail,userPrincipalName eq\n";
  conf += "access to attrs=userPassword by self write by anonymous auth by * none\n";
  conf += "access to * by * read\n";
  WritePrivateFile(d + "/slapd.conf", conf);
  configured_ = true;
  return true;
}

bool SlapdServer::Load(const std::string& ldif, std::string* error) {
  if (!WriteConfig(error)) return false;
  const std::string file = dir_.File("load.ldif");
  WriteFile(file, ldif);
  RunResult r = Run({kSlapadd, "-q", "-f", dir_.File("slapd.conf"), "-l", file});
  unlink(file.c_str());
  if (r.exit_code != 0) {
    *error = "slapadd failed: " + r.out + r.err;
    return false;
  }
  loaded_ = true;
  return true;
}

bool SlapdServer::Spawn() {
  std::string urls = url();
  if (!options_.cert_file.empty()) urls += " " + ldaps_url();
  pid_ = StartChild({kSlapd, "-d", "0", "-f", dir_.File("slapd.conf"), "-h", urls},
                    dir_.File("slapd.log"));
  return pid_ > 0;
}

bool SlapdServer::Start(std::string* error, std::chrono::milliseconds timeout) {
  if (!WriteConfig(error)) return false;
  const std::vector<uint16_t> ports = FreeLoopbackPorts(2);
  port_ = ports[0];
  ldaps_port_ = ports[1];
  if (!Restart(error, timeout)) return false;
  if (loaded_) return true;
  // The suffix's own entry and the users' branch.
  const std::string dc = options_.suffix.substr(3, options_.suffix.find(',') - 3);
  return Apply("dn: " + options_.suffix + "\nobjectClass: dcObject\nobjectClass: organization\n" +
                   "dc: " + dc + "\no: otpd tests\n\n" + "dn: " + people() +
                   "\nobjectClass: organizationalUnit\nou: people\n",
               error);
}

bool SlapdServer::Restart(std::string* error, std::chrono::milliseconds timeout) {
  if (!Spawn()) {
    *error = "cannot fork slapd";
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    RunResult r =
        Run({kLdapSearch, "-x", "-LLL", "-H", url(), "-b", "", "-s", "base", "namingContexts"});
    if (r.exit_code == 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "slapd did not start:\n" + log();
  Stop();
  return false;
}

void SlapdServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool SlapdServer::Apply(const std::string& ldif, std::string* error) {
  RunResult r =
      Run({kLdapModify, "-x", "-a", "-H", url(), "-D", admin_dn(), "-y", dir_.File("admin.pw")}, {},
          ldif);
  if (r.exit_code == 0) return true;
  *error = "ldapmodify failed (" + std::to_string(r.exit_code) + "): " + r.out + r.err;
  return false;
}

}  // namespace otpd::testing
