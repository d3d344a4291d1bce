#include "server/internal/config_errors.h"

#include <algorithm>
#include <cstddef>

namespace otpd::server::config_errors {
namespace {

// Optimal string alignment distance: a swap of two neighbours counts as one edit, as it is one
// typo.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

bool ConfigErrors::Add(base::Status status) {
  if (status.ok()) return true;
  errors_.push_back(std::move(status));
  return false;
}

base::Status ConfigErrors::First() const {
  return errors_.empty() ? base::OkStatus() : errors_.front();
}

std::vector<std::string> ConfigErrors::Messages() const {
  std::vector<std::string> out;
  for (const base::Status& s : errors_) out.emplace_back(s.message());
  return out;
}

std::string NearestName(std::string_view name, const std::vector<std::string_view>& candidates) {
  const size_t allowed = std::max<size_t>(2, name.size() / 4);
  std::string_view best;
  size_t best_distance = allowed + 1;
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(name, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return std::string(best);
}

std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates) {
  const std::string nearest = NearestName(name, candidates);
  return nearest.empty() ? "" : "; did you mean `" + nearest + "`?";
}

}  // namespace otpd::server::config_errors
