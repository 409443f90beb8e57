# tests/integration/lib/backup.sh - helpers for tests of cellar's base backups.
#
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
