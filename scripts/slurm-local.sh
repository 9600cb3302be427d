#!/usr/bin/env bash
# A real single-node Slurm cluster on localhost, no systemd, every file under one folder
# (docs/slurm.md). Needs root and the Debian packages slurm-wlm and munge
# (scripts/install-deps.sh); installs nothing itself.
#
#   scripts/slurm-local.sh start DIR         start munged, slurmctld, slurmd; wait for the node
#                                            to be idle; print `export SLURM_CONF=...`
#   scripts/slurm-local.sh stop DIR          stop exactly the processes `start DIR` started
#                                            (safe twice, and after a failed start)
#   scripts/slurm-local.sh run DIR -- CMD... start, run CMD with SLURM_CONF exported, stop
#                                            (always), exit with CMD's status
#   scripts/slurm-local.sh wait [--timeout S] JOBID...
#                                            (SLURM_CONF set) wait until the jobs have left
#                                            the queue; exit 0 if every job and array task
#                                            ended COMPLETED with ExitCode 0:0, else 1
#
# Environment: SLURM_LOCAL_TIMEOUT (seconds to wait for the node to be idle, default 60),
# SLURM_LOCAL_PORT (slurmctld port; slurmd uses the next one; default: the first free pair
# from 6817 up, so two clusters can run side by side).
set -euo pipefail

PROG=slurm-local
die() { echo "$PROG: $*" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# One EXIT handler: a start that fails shows the daemons' logs and stops what it started;
# `run` always stops its cluster.
STARTING_DIR=""
RUN_DIR=""
# In `run`, the daemons get SIGKILL if this script dies without running its traps (SIGKILL).
PDEATH=()
on_exit() {
  local rc=$?
  if [ -n "$STARTING_DIR" ] && [ $rc -ne 0 ]; then
    show_logs "$STARTING_DIR"
    cmd_stop "$STARTING_DIR"
  fi
  if [ -n "$RUN_DIR" ]; then cmd_stop "$RUN_DIR"; fi
  return $rc
}
trap on_exit EXIT
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

need_tools() {
  local t
  for t in slurmctld slurmd munged sinfo scontrol squeue; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "$t" >/dev/null 2>&1 ||
      die "$t not found: install slurm-wlm munge (scripts/install-deps.sh)"
  done
  for t in setpriv munge; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found: install slurm-wlm munge (scripts/install-deps.sh)"
  done
  [ "$(id -u)" -eq 0 ] || die "must run as root (munged runs as user munge, slurmd as root)"
  id munge >/dev/null 2>&1 || die "user munge missing: install munge (scripts/install-deps.sh)"
}

abs_dir() {  # absolute path of DIR, created if needed
  mkdir -p -- "$1"
  (cd -- "$1" && pwd -P)
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Is PID alive and still the process we started (its command line names DIR)?
ours() {
  local pid=$1 dir=$2
  local cmd
  # Into a variable, not `| grep -q`: with pipefail, grep exiting early fails the pipeline.
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmd == *"$dir"* ]]
}

# Whether process `pid` is still running (not exited, not a zombie). Used while a daemon starts:
# `ours` cannot be, since right after `cmd &` /proc/PID/cmdline is empty or still the shell's
# until the exec (seen in 1 of 3 starts of setpriv), which read as "exited at start".
running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

show_logs() {
  local dir=$1 f
  for f in "$dir"/munge/munged.log "$dir"/log/slurmctld.log "$dir"/log/slurmd.log \
           "$dir"/log/*.stdout; do
    [ -s "$f" ] || continue
    echo "----- $f (last 40 lines)" >&2
    tail -n 40 "$f" >&2
  done
}

cmd_stop() {
  local dir
  [ -d "$1" ] || return 0
  dir=$(cd -- "$1" && pwd -P)
  [ -f "$dir/pids" ] || return 0
  local name pid live=() i
  # Cancel this cluster's jobs while slurmctld still runs, so no job or slurmstepd outlives it.
  local ctld
  ctld=$(awk '$1=="slurmctld"{print $2}' "$dir/pids")
  if [ -n "$ctld" ] && ours "$ctld" "$dir" && [ -f "$dir/slurm.conf" ]; then
    local jobs
    jobs=$(SLURM_CONF=$dir/slurm.conf timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$dir/slurm.conf timeout 10 scancel $jobs 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do  # up to 10 s for the jobs to end
        [ -z "$(SLURM_CONF=$dir/slurm.conf timeout 10 squeue -h -o %A 2>/dev/null || true)" ] && break
        sleep 0.1
      done
    fi
  fi
  # Daemons first (slurmd, slurmctld), munged last: the reverse of the start order.
  while read -r name pid; do
    [ -n "${pid:-}" ] || continue
    if ours "$pid" "$dir"; then
      kill -TERM "$pid" 2>/dev/null || true
      live+=("$pid")
    fi
  done < <(tac "$dir/pids")
  for ((i = 0; i < 100; i++)); do  # up to 10 s, then SIGKILL
    local still=()
    for pid in "${live[@]+"${live[@]}"}"; do
      if ours "$pid" "$dir"; then still+=("$pid"); fi
    done
    live=("${still[@]+"${still[@]}"}")
    [ ${#live[@]} -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${live[@]+"${live[@]}"}"; do
    echo "$PROG: pid $pid ignored SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ((i = 0; i < 50 && ${#live[@]} > 0; i++)); do
    local still=()
    for pid in "${live[@]}"; do
      if [ -e "/proc/$pid" ] && ours "$pid" "$dir"; then still+=("$pid"); fi
    done
    live=("${still[@]+"${still[@]}"}")
    sleep 0.1
  done
  rm -f "$dir/pids"
}

cmd_start() {
  need_tools
  local dir t0 host cpus mem cport
  dir=$(abs_dir "$1")
  t0=$(now_ms)
  if [ -f "$dir/pids" ]; then
    local name pid
    while read -r name pid; do
      ours "$pid" "$dir" && die "a cluster from $dir is running ($name pid $pid): stop it first"
    done <"$dir/pids"
    rm -f "$dir/pids"
  fi
  # munged refuses to start unless the daemon user can reach its folders and nobody else can
  # write them; slurmd must reach the job's files. Every folder on the way must be traversable.
  chmod 755 "$dir"
  rm -rf "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
  chmod 755 "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
  chown munge:munge "$dir/munge"
  setpriv --reuid=munge --regid=munge --init-groups test -x "$dir/munge" ||
    die "user munge cannot enter $dir/munge: make every parent folder of $dir world-searchable"

  STARTING_DIR=$dir

  # --- munged
  local key=$dir/munge/munge.key sock=$dir/munge/munge.socket.2
  if command -v mungekey >/dev/null 2>&1 || [ -x /usr/sbin/mungekey ]; then
    setpriv --reuid=munge --regid=munge --init-groups \
      "$(PATH="$PATH:/usr/sbin" command -v mungekey)" --create --keyfile="$key" --force
  else
    dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    chown munge:munge "$key"
  fi
  chmod 400 "$key"
  setpriv "${PDEATH[@]+"${PDEATH[@]}"}" --reuid=munge --regid=munge --init-groups \
    "$(PATH="$PATH:/usr/sbin" command -v munged)" -F --socket="$sock" --key-file="$key" \
    --log-file="$dir/munge/munged.log" --pid-file="$dir/munge/munged.pid" \
    --seed-file="$dir/munge/munged.seed" \
    </dev/null >"$dir/log/munged.stdout" 2>&1 9>&- &
  echo "munged $!" >>"$dir/pids"
  local i
  for ((i = 0; i < 100; i++)); do
    [ -S "$sock" ] && munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 && break
    running "$(awk '$1=="munged"{print $2}' "$dir/pids")" || die "munged exited at start"
    sleep 0.1
  done
  [ -S "$sock" ] || die "munged socket $sock did not appear in 10 s"

  # --- slurm.conf
  host=$(hostname -s)
  cpus=$(nproc)
  # The memory slurmd itself detects (configuring more drains the node as "Low RealMemory").
  mem=$(PATH="$PATH:/usr/sbin" slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
  [ -n "$mem" ] || mem=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
  # Starts are serialized (a lock held from choosing the ports until the node is idle), so two
  # clusters started at once do not pick the same ports. The daemons do not inherit the lock.
  exec 9>"${TMPDIR:-/tmp}/slurm-local.lock"
  flock -w 120 9 || die "another slurm-local start held ${TMPDIR:-/tmp}/slurm-local.lock for 120 s"
  if [ -n "${SLURM_LOCAL_PORT:-}" ]; then
    cport=$SLURM_LOCAL_PORT
  else
    cport=6817
    while ! { port_free "$cport" && port_free $((cport + 1)); }; do
      cport=$((cport + 2))
      [ "$cport" -lt 6917 ] || die "no free port pair in 6817..6916 (set SLURM_LOCAL_PORT)"
    done
  fi
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh start: a single-node cluster on localhost, all under $dir.
ClusterName=quasar
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$((cport + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobContainerType=job_container/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=quasar Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$dir/slurm.conf

  # --- slurmctld, slurmd (foreground mode, in the background; -f puts DIR in their command
  # line, which is how `stop` recognizes them). Output to files: a daemon holding the caller's
  # stdout would keep a pipe reader (ctest) waiting.
  setpriv "${PDEATH[@]+"${PDEATH[@]}"}" \
    "$(PATH="$PATH:/usr/sbin" command -v slurmctld)" -D -i -f "$dir/slurm.conf" \
    </dev/null >"$dir/log/slurmctld.stdout" 2>&1 9>&- &
  echo "slurmctld $!" >>"$dir/pids"
  setpriv "${PDEATH[@]+"${PDEATH[@]}"}" \
    "$(PATH="$PATH:/usr/sbin" command -v slurmd)" -D -f "$dir/slurm.conf" \
    </dev/null >"$dir/log/slurmd.stdout" 2>&1 9>&- &
  echo "slurmd $!" >>"$dir/pids"

  local timeout=${SLURM_LOCAL_TIMEOUT:-60} state="" name pid
  local deadline=$(($(date +%s) + timeout))
  while :; do
    state=$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -n1 || true)
    [ "$state" = idle ] && break
    while read -r name pid; do
      running "$pid" || die "$name (pid $pid) exited during start"
    done <"$dir/pids"
    [ "$(date +%s)" -lt "$deadline" ] ||
      die "node $host not idle after ${timeout} s (state: ${state:-none})"
    sleep 0.2
  done
  STARTING_DIR=""
  flock -u 9; exec 9>&-
  local ms=$(($(now_ms) - t0))
  printf '%s: cluster up in %d.%03d s (node %s, %s CPUs, %s MB, ports %s/%s)\n' "$PROG" \
    $((ms / 1000)) $((ms % 1000)) "$host" "$cpus" "$mem" "$cport" $((cport + 1)) >&2
  echo "export SLURM_CONF=$dir/slurm.conf"
}

cmd_run() {
  local dir=$1; shift
  [ "${1:-}" = "--" ] && shift
  [ $# -gt 0 ] || usage
  dir=$(abs_dir "$dir")
  RUN_DIR=$dir
  PDEATH=(--pdeathsig KILL)
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cmd_start "$dir" >/dev/null
  export SLURM_CONF=$dir/slurm.conf
  local rc=0
  "$@" || rc=$?
  exit "$rc"  # on_exit stops the cluster
}

cmd_wait() {
  local timeout=600
  if [ "${1:-}" = "--timeout" ]; then timeout=$2; shift 2; fi
  [ $# -gt 0 ] || usage
  [ -n "${SLURM_CONF:-}" ] || die "wait: SLURM_CONF is not set"
  # scontrol, not squeue: it still shows finished jobs (for MinJobAge, 300 s) with their end
  # state and exit code, one line per array task (pending tasks share one line).
  local deadline=$(($(date +%s) + timeout)) id line busy bad
  while :; do
    busy=0 bad=0
    for id in "$@"; do
      local out
      if ! out=$(scontrol -o show job "$id" 2>&1); then
        echo "$PROG: job $id: $out" >&2; bad=1; continue
      fi
      while read -r line; do
        local jid st ec reason
        jid=$(sed -n 's/^JobId=\([^ ]*\).*/\1/p' <<<"$line")
        st=$(sed -n 's/.* JobState=\([^ ]*\).*/\1/p' <<<"$line")
        ec=$(sed -n 's/.* ExitCode=\([^ ]*\).*/\1/p' <<<"$line")
        reason=$(sed -n 's/.* Reason=\([^ ]*\).*/\1/p' <<<"$line")
        case "$st" in
          COMPLETED) [ "$ec" = 0:0 ] || { echo "$PROG: job $jid COMPLETED with exit code $ec" >&2; bad=1; } ;;
          PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|REQUEUE_HOLD|REQUEUE_FED|RESIZING|SIGNALING|STAGE_OUT)
            if [ "$reason" = DependencyNeverSatisfied ]; then
              echo "$PROG: job $jid can never run (DependencyNeverSatisfied)" >&2; bad=1
            else busy=1; fi ;;
          *) echo "$PROG: job $jid ended $st, exit code $ec" >&2; bad=1 ;;
        esac
      done <<<"$out"
    done
    [ $busy -eq 0 ] && return $bad
    [ "$(date +%s)" -lt "$deadline" ] || { squeue >&2; die "wait: jobs $* not finished after $timeout s"; }
    sleep 0.2
  done
}

[ $# -ge 1 ] || usage
case "$1" in
  start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
  stop)  [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
  run)   [ $# -ge 3 ] || usage; shift; need_tools; cmd_run "$@" ;;
  wait)  shift; cmd_wait "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
