// The console's files as compiled into otpd (server/admin/console_assets.h): every file a page
// names is there with the right type, none holds what the Content-Security-Policy would refuse,
// and the answers carry the security headers. The reference and policy checks cover the Security
// info page's files too (and web/, which both pages are served).

#include "server/admin/console_assets.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace otpd::server::admin {
namespace {

namespace bhttp = boost::beast::http;

std::string Text(const ConsoleAsset& a) {
  return std::string(reinterpret_cast<const char*>(a.data), a.size);
}

// Both pages' files, and the prefix each is served under.
struct Page {
  const ConsoleAsset* assets;
  std::string prefix;
};
const Page kPages[] = {{http::kConsoleAssets, "/console/"},
                       {http::kSelfServiceAssets, "/security-info/"}};

http::Request Get(std::string target, bhttp::verb verb = bhttp::verb::get) {
  http::Request r{verb, target, 11};
  r.prepare_payload();
  return r;
}

TEST(ConsoleAssetsTest, IndexIsServedAtTheRoot) {
  const ConsoleAsset* index = FindConsoleAsset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_STREQ(index->path, "/console/index.html");
  EXPECT_STREQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(FindConsoleAsset("/console/"), index);
  EXPECT_EQ(FindConsoleAsset("/console/nothing.js"), nullptr);
  EXPECT_EQ(FindConsoleAsset("/console/../README.md"), nullptr);
}

TEST(ConsoleAssetsTest, OnlyTheConsolesPathsAreItsOwn) {
  EXPECT_TRUE(IsConsoleTarget("/"));
  EXPECT_TRUE(IsConsoleTarget("/?x=1"));
  EXPECT_TRUE(IsConsoleTarget("/console/js/app.js"));
  EXPECT_FALSE(IsConsoleTarget("/consoles"));
  EXPECT_FALSE(IsConsoleTarget("/v1.0/users"));
  EXPECT_FALSE(IsConsoleTarget("/metrics"));
  EXPECT_FALSE(IsConsoleTarget("/healthz"));
}

// Every module a script imports, and every file the page links, is compiled in.
TEST(ConsoleAssetsTest, EveryReferencedFileIsThere) {
  for (const Page& page : kPages) {
    std::set<std::string> paths;
    for (const ConsoleAsset* a = page.assets; a->data != nullptr; ++a) paths.insert(a->path);
    ASSERT_GT(paths.size(), 5u);
    // The shared files are served under the page's own path.
    EXPECT_TRUE(paths.contains(page.prefix + "common/dom.js")) << page.prefix;
    EXPECT_TRUE(paths.contains(page.prefix + "common/base.css")) << page.prefix;
    const std::regex imported(R"(from '(\.{1,2}/[^']+)')");
    const std::regex linked("(?:src|href)=\"(" + page.prefix + "[^\"]+)\"");
    size_t references = 0;
    for (const ConsoleAsset* a = page.assets; a->data != nullptr; ++a) {
      const std::string text = Text(*a);
      const std::string path = a->path;
      const std::string dir = path.substr(0, path.rfind('/'));
      for (std::sregex_iterator m(text.begin(), text.end(), imported), end; m != end; ++m) {
        std::string rel = (*m)[1];
        std::string base = dir;
        while (rel.starts_with("../")) {
          base = base.substr(0, base.rfind('/'));
          rel = rel.substr(3);
        }
        if (rel.starts_with("./")) rel = rel.substr(2);
        EXPECT_TRUE(paths.contains(base + "/" + rel)) << path << " imports " << (*m)[1];
        ++references;
      }
      for (std::sregex_iterator m(text.begin(), text.end(), linked), end; m != end; ++m) {
        EXPECT_TRUE(paths.contains((*m)[1])) << path << " links " << (*m)[1];
        ++references;
      }
    }
    EXPECT_GT(references, 20u) << page.prefix;  // the patterns do find the references
  }
}

// What the policy forbids (inline script and style) and what would put the API's text into the
// page as markup, or a key into lasting storage, is absent.
TEST(ConsoleAssetsTest, NothingThePolicyWouldRefuse) {
  for (const Page& page : kPages) {
    for (const ConsoleAsset* a = page.assets; a->data != nullptr; ++a) {
      const std::string text = Text(*a);
      const std::string_view type = a->content_type;
      if (type.starts_with("text/html")) {
        EXPECT_EQ(text.find(" style="), std::string::npos) << a->path;
        EXPECT_EQ(text.find("<style"), std::string::npos) << a->path;
        EXPECT_EQ(text.find("<script>"), std::string::npos) << a->path;
        EXPECT_FALSE(std::regex_search(text, std::regex(R"(\son[a-z]+=)"))) << a->path;
      }
      if (type.starts_with("text/javascript")) {
        EXPECT_EQ(text.find("innerHTML"), std::string::npos) << a->path;
        EXPECT_EQ(text.find("outerHTML"), std::string::npos) << a->path;
        EXPECT_EQ(text.find("eval("), std::string::npos) << a->path;
        EXPECT_EQ(text.find("localStorage.setItem"), std::string::npos) << a->path;
        EXPECT_EQ(text.find("document.cookie"), std::string::npos) << a->path;
        EXPECT_EQ(text.find("setAttribute('style'"), std::string::npos) << a->path;
      }
    }
  }
}

TEST(ConsoleAssetsTest, AnswersCarryTheSecurityHeaders) {
  http::Response index = ServeConsole(Get("/"));
  EXPECT_EQ(index.result(), bhttp::status::ok);
  EXPECT_EQ(index[bhttp::field::content_type], "text/html; charset=utf-8");
  const std::string csp(index["Content-Security-Policy"]);
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  EXPECT_EQ(index["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(index["Referrer-Policy"], "no-referrer");

  http::Response script = ServeConsole(Get("/console/js/app.js?v=1"));
  EXPECT_EQ(script.result(), bhttp::status::ok);
  EXPECT_EQ(script[bhttp::field::content_type], "text/javascript; charset=utf-8");

  http::Response missing = ServeConsole(Get("/console/missing.js"));
  EXPECT_EQ(missing.result(), bhttp::status::not_found);
  EXPECT_EQ(missing["Content-Security-Policy"], index["Content-Security-Policy"]);

  http::Response posted = ServeConsole(Get("/", bhttp::verb::post));
  EXPECT_EQ(posted.result(), bhttp::status::method_not_allowed);
}

}  // namespace
}  // namespace otpd::server::admin
