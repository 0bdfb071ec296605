#!/usr/bin/env bash
# The Debian packages the project needs, in one place: `make run`, `make test` and `.ci/run`
# all call this script.
#
#   chromium                  the browser tests (Playwright drives Debian's chromium)
#   fonts-noto-cjk            Chinese glyphs in the browser and in screenshots
#   libreoffice-writer-nogui  PDF versions of briefings, letters and archive files
#   fonts-arphic-uming/ukai   TrueType Chinese fonts LibreOffice embeds in those PDFs
#   gettext                   msgfmt compiles the project's admin translations (locale/)
#   zlib1g-dev                zlib's header for the C module (search/_fastwrite.c; built
#                             without its compression where the header is missing)
#
# As root it installs whatever is missing (running `apt-get update` only then). As another user
# it installs nothing: when something is missing it prints the exact command to run and exits 1.
# Nothing is downloaded when everything is already there.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
dpkg -s fonts-arphic-uming >/dev/null 2>&1 || missing+=(fonts-arphic-uming)
dpkg -s fonts-arphic-ukai >/dev/null 2>&1 || missing+=(fonts-arphic-ukai)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
[ -f /usr/include/zlib.h ] || dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  {
    echo "缺少系统软件包：${missing[*]}"
    echo "请以 root 身份运行下面的命令安装后重试："
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  } >&2
  exit 1
fi

echo "安装系统软件包：${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "系统软件包已安装。"
