# Sourced by the synthesis scripts: where the OSU 0.18 µm Liberty file is, fetched once.
#   osu018_fetch ROOT WHO   unpacks Debian's qflow-tech-osu018 into ROOT/build/tech/osu018
#                           (`apt-get download` + `dpkg -x`: qflow is not installed) unless it is
#                           there; says so on stderr as WHO; returns non-zero when it cannot.
#   osu018_path ROOT        the Liberty file's path there (whether it exists or not)
osu018_path() {
  echo "$1/build/tech/osu018/usr/share/qflow/tech/osu018/osu018_stdcells.lib"
}
osu018_fetch() {
  local tech="$1/build/tech/osu018"
  [ -f "$(osu018_path "$1")" ] && return 0
  mkdir -p "$tech"
  if (cd "$tech" && timeout 120 apt-get download qflow-tech-osu018 >/dev/null 2>&1) &&
     dpkg -x "$tech"/qflow-tech-osu018_*.deb "$tech"; then
    echo "$2: unpacked qflow-tech-osu018 into $tech" >&2
    return 0
  fi
  return 1
}
