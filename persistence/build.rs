// `embed_migrations!` reads ../migrations at compile time; without this, editing an SQL
// file would not rebuild the crate and the binary would carry the old migrations.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
