// Writing manual pages in roff (man(7) macros), for the pages generated from the option
// descriptions (tools/man/man_pages.h). Text given to these functions is plain text: they escape
// what roff would otherwise read as a request, an escape or a minus sign.

#ifndef OTPD_TOOLS_MAN_ROFF_H_
#define OTPD_TOOLS_MAN_ROFF_H_

#include <string>
#include <string_view>

namespace otpd::tools {

// `text` for roff: backslashes as \e, a '.' or '\'' at a line's start guarded with \&, and the
// hyphens of words that start with '-' (option names) as \- so that they print as ASCII minus
// signs and can be searched for and copied.
std::string RoffText(std::string_view text);

// A page being written, one macro or line of text at a time.
class RoffPage {
 public:
  // .TH NAME SECTION "" SOURCE MANUAL, then .nh (hyphenation off)
  RoffPage(std::string_view name, int section, std::string_view source, std::string_view manual);

  void Section(std::string_view title);     // .SH
  void Subsection(std::string_view title);  // .SS
  void Paragraph(std::string_view text);    // .PP and the text
  // .TP with `tag` (already roff, e.g. from Bold()) and the text under it.
  void Item(std::string_view tag, std::string_view text);
  // Lines shown as they are (.EX/.EE), for examples.
  void Example(std::string_view lines);
  // Raw roff, added as it is.
  void Raw(std::string_view roff);

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// \fB...\fR and \fI...\fR around escaped text.
std::string Bold(std::string_view text);
std::string Italic(std::string_view text);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_MAN_ROFF_H_
