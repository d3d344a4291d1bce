#include "tools/man/roff.h"

#include <cctype>

namespace otpd::tools {
namespace {

bool StartsWord(char previous) {
  return previous == ' ' || previous == '\n' || previous == '(' || previous == '[' ||
         previous == '`' || previous == '"' || previous == '\'' || previous == '=' ||
         previous == ',' || previous == '|';
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : RoffText(text)) {
    if (c == '"') {
      out += "\\(dq";
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::string RoffText(std::string_view text) {
  std::string out;
  bool line_start = true;
  bool in_option = false;  // inside a word that started with '-'
  char previous = ' ';
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '-' && (in_option || StartsWord(previous))) {
      in_option = true;
      out += "\\-";
    } else if (c == '\\') {
      out += "\\e";
    } else {
      out.push_back(c);
    }
    if (c != '-' && !(in_option && (std::isalnum(static_cast<unsigned char>(c)) || c == '_'))) {
      in_option = false;
    }
    line_start = c == '\n';
    previous = c;
  }
  return out;
}

RoffPage::RoffPage(std::string_view name, int section, std::string_view source,
                   std::string_view manual) {
  text_ = ".TH " + Quoted(name) + " " + std::to_string(section) + " \"\" " + Quoted(source) + " " +
          Quoted(manual) + "\n";
  text_ += ".nh\n";  // no hyphenation: an option's name must not be broken across lines
}

void RoffPage::Section(std::string_view title) { text_ += ".SH " + Quoted(title) + "\n"; }

void RoffPage::Subsection(std::string_view title) { text_ += ".SS " + Quoted(title) + "\n"; }

void RoffPage::Paragraph(std::string_view text) { text_ += ".PP\n" + RoffText(text) + "\n"; }

void RoffPage::Item(std::string_view tag, std::string_view text) {
  text_ += ".TP\n" + std::string(tag) + "\n" + RoffText(text) + "\n";
}

void RoffPage::Example(std::string_view lines) {
  text_ += ".PP\n.EX\n" + RoffText(lines);
  if (!lines.empty() && lines.back() != '\n') text_ += "\n";
  text_ += ".EE\n";
}

void RoffPage::Raw(std::string_view roff) { text_ += roff; }

std::string Bold(std::string_view text) { return "\\fB" + RoffText(text) + "\\fR"; }

std::string Italic(std::string_view text) { return "\\fI" + RoffText(text) + "\\fR"; }

}  // namespace otpd::tools
