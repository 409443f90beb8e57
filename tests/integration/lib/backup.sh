# tests/integration/lib/backup.sh - helpers for tests of cellar's base backups.
#
#     backup_conf FILE GLOBAL HOME PORT DESCRIPTION [LINE...]
#                                        write (mode 0644) a configuration
#                                        with a [GLOBAL] section (cellar or
#                                        barman: barman_home HOME, user
#                                        root, log_file next to HOME,
#                                        path_prefix PG_BINDIR) and a
#                                        [main] section for the cluster on
#                                        127.0.0.1:PORT, followed by LINEs
#     backup_info CONF SERVER ID KEY     print one key of backup.info
#     backup_dir CONF SERVER ID          print base/<id> of the backup
#     plain_restore CONF SERVER ID DEST  restore a backup by hand, without
#                                        cellar recover: copy base/<id> to
#                                        DEST (DEST/data is the data
#                                        directory; its pg_tblspc links point
#                                        at DEST/<oid>), fetch the WAL from
#                                        begin_wal to end_wal with get-wal into
#                                        DEST/data/pg_wal, switch archiving off
#
# The restore is what a DBA could do with nothing but cp and get-wal: it
# proves the backup's files plus its WAL are a consistent data directory.

# shellcheck shell=bash

backup_conf() {
    local file=$1 global=$2 home=$3 port=$4 description=$5
    shift 5
    {
        printf '[%s]\nbarman_home = %s\nbarman_user = root\n' "$global" "$home"
        printf 'log_file = %s/cellar.log\npath_prefix = %s\n\n' "$(dirname "$home")" "$PG_BINDIR"
        printf '[main]\ndescription = "%s"\n' "$description"
        printf 'conninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' "$port"
        printf '%s\n' "$@"
    } >"$file" && chmod 0644 "$file"
}

backup_info() {
    local home
    home=$(awk -F' *= *' '$1 == "barman_home" {print $2; exit}' "$1")
    sed -n "s/^$4=//p" "$home/$2/base/$3/backup.info"
}

backup_dir() {
    local home
    home=$(awk -F' *= *' '$1 == "barman_home" {print $2; exit}' "$1")
    printf '%s/%s/base/%s\n' "$home" "$2" "$3"
}

plain_restore() {
    local conf=$1 server=$2 id=$3 dest=$4 begin end tli seg name
    mkdir -p "$dest" || return 1
    cp -a "$(backup_dir "$conf" "$server" "$id")/." "$dest/" || return 1
    chmod 0755 "$dest" || return 1 # the server runs as postgres and must reach data/
    begin=$(backup_info "$conf" "$server" "$id" begin_wal)
    end=$(backup_info "$conf" "$server" "$id" end_wal)
    tli=${end:0:8}
    # segment numbers of 16 MiB segments: log * 256 + seg
    for ((seg = 16#${begin:8:8} * 256 + 16#${begin:16:8}; seg <= 16#${end:8:8} * 256 + 16#${end:16:8}; seg++)); do
        name=$(printf '%s%08X%08X' "$tli" $((seg / 256)) $((seg % 256)))
        "$CELLAR" -c "$conf" get-wal "$server" "$name" >"$dest/data/pg_wal/$name" || return 1
    done
    printf 'archive_mode = off\n' >>"$dest/data/postgresql.conf"
}
