#!/usr/bin/env bash
# Course setup for deploy/jupyterhub. Run it as root. Running it again is safe: an
# existing course folder is left untouched.
#
#   setup-course.sh [REPOSITORY]   one machine, once the Unix accounts exist (the grader's
#                                  included): the environment's Jupyter settings, the
#                                  exchange and the grader's course folder
#   setup-course.sh --env-only     the environment's Jupyter settings only (the Dockerfile)
#
# REPOSITORY defaults to this file's repository. The script reads the same COURSE_HUB_*
# variables as jupyterhub_config.py, with the same defaults.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
env_only=no
if [ "${1:-}" = --env-only ]; then env_only=yes; shift; fi
repo=$(cd "${1:-$here/../..}" && pwd)
course_id=${COURSE_HUB_COURSE_ID:-mesotherapy}
env_prefix=${COURSE_HUB_ENV:-/opt/mesotherapy}
exchange=${COURSE_HUB_EXCHANGE:-/srv/nbgrader/exchange}
grader=${COURSE_HUB_GRADER:-grader-$course_id}

[ "$(id -u)" = 0 ] || { echo "setup-course.sh: run as root" >&2; exit 1; }
[ -x "$env_prefix/bin/jupyterhub-singleuser" ] \
    || { echo "setup-course.sh: no course environment (with jupyterhub) at $env_prefix" >&2; exit 1; }
cd /

# 1. Global nbgrader settings (exchange root, course id, hub groups) for every account.
install -D -m 0644 "$here/nbgrader_config.py" "$env_prefix/etc/jupyter/nbgrader_config.py"

# 2. Everyone gets only the student-side extensions (assignment list, validate). The lab
#    plugins are also locked, so nobody can switch them back on in the plugin manager.
#    These two files do what "jupyter server extension disable --sys-prefix" and
#    "jupyter labextension disable/lock --level=sys_prefix" do. Unlike the first command,
#    which edits nbgrader's own nbgrader.json, they survive an nbgrader upgrade. The
#    "zz-" name sorts after nbgrader.json, so these settings win. The course's lab
#    extension is prebuilt: no build check, which would run `yarn` in node (about
#    0.5 CPU-s) at every page load of every student.
install -d -m 0755 "$env_prefix/etc/jupyter/jupyter_server_config.d" \
    "$env_prefix/etc/jupyter/labconfig/page_config.d"
cat > "$env_prefix/etc/jupyter/jupyter_server_config.d/zz-mesotherapy-students.json" <<'EOF'
{"ServerApp": {"jpserver_extensions": {
  "nbgrader.server_extensions.formgrader": false,
  "nbgrader.server_extensions.course_list": false}}}
EOF
cat > "$env_prefix/etc/jupyter/labconfig/page_config.d/zz-mesotherapy-students.json" <<'EOF'
{"buildCheck": false, "buildAvailable": false,
 "disabledExtensions": {"@jupyter/nbgrader:formgrader": true,
                        "@jupyter/nbgrader:course-list": true,
                        "@jupyter/nbgrader:create-assignment": true},
 "lockedExtensions": {"@jupyter/nbgrader:formgrader": true,
                      "@jupyter/nbgrader:course-list": true,
                      "@jupyter/nbgrader:create-assignment": true}}
EOF

# 3. The formgrader's server alone gets the formgrader back. Its JUPYTER_CONFIG_PATH names
#    this folder (jupyterhub_config.py, z2jh-values.yaml), where it outranks the
#    environment's settings. ("jupyter server extension enable --user" in the grader's home
#    would not: in a venv or conda env, jupyter_core prefers the environment's
#    configuration to the user's.)
install -d -m 0755 "$env_prefix/etc/jupyter-formgrader"
cat > "$env_prefix/etc/jupyter-formgrader/jupyter_server_config.json" <<'EOF'
{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": true}}}
EOF

if [ "$env_only" = yes ]; then
    echo "Course environment $env_prefix ready."
    exit 0
fi

grader_home=$(getent passwd "$grader" | cut -d: -f6) \
    || { echo "setup-course.sh: no Unix account $grader" >&2; exit 1; }
grader_group=$(id -gn "$grader")
course_dir="$grader_home/$course_id"

# 4. The exchange. nbgrader requires its root to be world-writable. The sticky bit stops
#    users from renaming or deleting each other's entries. The course folder is made now,
#    owned by the grader, so that no student can claim it first.
mkdir -p "$exchange"
chmod 1777 "$exchange"
mkdir -p "$exchange/$course_id"
chown "$grader:$grader_group" "$exchange/$course_id"
chmod 0755 "$exchange/$course_id"

# 5. The grader's course folder: the instructor sources and the course's nbgrader settings.
#    The hub needs one more setting: the course id is the service's name and the suffix of
#    the hub groups.
if [ ! -e "$course_dir/nbgrader_config.py" ]; then
    mkdir -p "$course_dir"
    cp -R "$repo/source" "$course_dir/source"
    cp "$repo/nbgrader_config.py" "$course_dir/nbgrader_config.py"
    cat >> "$course_dir/nbgrader_config.py" <<EOF

# Added by deploy/jupyterhub/setup-course.sh: on JupyterHub the course id is the formgrader
# service's name and the suffix of the groups formgrade-$course_id and nbgrader-$course_id.
c.CourseDirectory.course_id = "$course_id"
EOF
    chown -R "$grader:$grader_group" "$course_dir"
    chmod 0700 "$course_dir"
fi

echo "Course $course_id ready: exchange $exchange, course folder $course_dir ($grader)."
