//! FUNCTION libraries: `#!lua name=<lib>` code whose top level registers
//! functions with `redis.register_function`, kept in their own interpreter
//! (Redis's function engine, separate from EVAL's), and called by FCALL.
//!
//! A library is loaded as Redis's `functionsCreateWithLibraryCtx` does:
//! metadata line, name, engine, collision with an existing library (unless
//! REPLACE), compile, run the top level (500 ms at most), at least one
//! function, no function name taken by another library; a failure anywhere
//! leaves the libraries as they were. FUNCTION DUMP writes Redis's own
//! payload (one `RDB_OPCODE_FUNCTION2` + code string per library, then the
//! RDB version and a CRC64), so payloads move between herald and Redis 7.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use bytes::Bytes;
use mlua::Function;

use super::{valid_name, Busy, Outcome, Runner, ScriptFlags, ScriptReply, Vm, VmKind, NAME_FORMAT};
use crate::rdb;

/// How long a library's top level may run (Redis's LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// The one engine herald has, as FUNCTION LIST and STATS name it.
pub const ENGINE_NAME: &str = "LUA";

/// RDB opcode of a function library (the code string follows).
const RDB_OPCODE_FUNCTION2: u8 = 245;
/// The 7.0 release-candidate format (name, engine, description, code).
const RDB_OPCODE_FUNCTION: u8 = 246;

/// One registered function.
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
    function: Function,
}

/// One library: its full code (metadata line included) and its functions in
/// registration order.
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionInfo>,
}

/// Libraries by name, and function names (case-insensitive, as Redis's
/// function dictionary) to their library.
#[derive(Default)]
struct Registry {
    libraries: BTreeMap<String, Library>,
    by_function: HashMap<String, String>,
}

impl Registry {
    fn link(&mut self, library: Library) {
        for f in &library.functions {
            self.by_function
                .entry(f.name.to_ascii_lowercase())
                .or_insert_with(|| library.name.clone());
        }
        self.libraries.insert(library.name.clone(), library);
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let library = self.libraries.remove(name)?;
        for f in &library.functions {
            let key = f.name.to_ascii_lowercase();
            if self.by_function.get(&key) == Some(&library.name) {
                self.by_function.remove(&key);
            }
        }
        Some(library)
    }

    fn function(&self, name: &str) -> Option<&FunctionInfo> {
        let key = name.to_ascii_lowercase();
        let library = self.libraries.get(self.by_function.get(&key)?)?;
        library
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    fn function_count(&self) -> usize {
        self.libraries.values().map(|l| l.functions.len()).sum()
    }

    /// The first function of `library` another library already has.
    fn collision<'a>(&self, library: &'a Library) -> Option<&'a str> {
        library
            .functions
            .iter()
            .find(|f| self.by_function.contains_key(&f.name.to_ascii_lowercase()))
            .map(|f| f.name.as_str())
    }
}

/// FUNCTION RESTORE's policy for libraries that already exist.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RestorePolicy {
    Flush,
    Append,
    Replace,
}

/// Library and function counts, readable while a function runs (FUNCTION
/// STATS is allowed during a busy script, when the engine is locked).
#[derive(Default)]
pub struct Counts {
    pub libraries: AtomicUsize,
    pub functions: AtomicUsize,
}

/// The function engine: its interpreter and the loaded libraries.
pub struct Functions {
    vm: Vm,
    current: Registry,
    pub counts: Arc<Counts>,
}

/// A library's metadata line (`#!<engine> name=<name>`) and the code after it.
struct Metadata<'a> {
    engine: Vec<u8>,
    name: Vec<u8>,
    /// From the newline that ends the metadata line, so line numbers hold.
    body: &'a [u8],
}

/// Redis's functionExtractLibMetaData (errors without the "ERR " prefix).
fn metadata(code: &[u8]) -> Result<Metadata<'_>, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = memchr::memchr(b'\n', code) else {
        return Err("Invalid library metadata".into());
    };
    let parts = match crate::protocol::resp::request::split_line_args(&code[..end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0][2..].to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok(Metadata {
        engine,
        name,
        body: &code[end..],
    })
}

impl Functions {
    pub fn new(busy: Arc<Busy>) -> Functions {
        Functions {
            vm: Vm::new(VmKind::Functions, busy).expect("the Lua sandbox builds from fixed code"),
            current: Registry::default(),
            counts: Arc::default(),
        }
    }

    pub(super) fn set_memory_limit(&mut self, bytes: usize) {
        self.vm.set_memory_limit(bytes);
    }

    fn update_counts(&self) {
        self.counts
            .libraries
            .store(self.current.libraries.len(), Relaxed);
        self.counts
            .functions
            .store(self.current.function_count(), Relaxed);
    }

    /// Compile `code` and run its top level into a library checked against
    /// `registry` (Redis's functionsCreateWithLibraryCtx). With `replace`, an
    /// existing library of the same name is replaced; on success the library
    /// is linked into `registry`. Errors are the full reply text.
    fn create(
        &self,
        code: &[u8],
        registry: &mut Registry,
        replace: bool,
        timeout: Option<std::time::Duration>,
    ) -> Result<String, String> {
        let md = metadata(code).map_err(|e| format!("ERR {e}"))?;
        if !valid_name(&md.name) {
            return Err(format!("ERR {NAME_FORMAT}"));
        }
        let name = String::from_utf8_lossy(&md.name).into_owned();
        if !md.engine.eq_ignore_ascii_case(ENGINE_NAME.as_bytes()) {
            return Err(format!(
                "ERR Engine '{}' not found",
                String::from_utf8_lossy(&md.engine)
            ));
        }
        if registry.libraries.contains_key(&name) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let old = registry.unlink(&name);
        let built = self
            .build(&name, code, md.body, timeout)
            .and_then(|library| match registry.collision(&library) {
                Some(f) => Err(format!("ERR Function {f} already exists")),
                None => Ok(library),
            });
        match built {
            Ok(library) => {
                registry.link(library);
                Ok(name)
            }
            Err(e) => {
                if let Some(old) = old {
                    registry.link(old);
                }
                Err(e)
            }
        }
    }

    /// Compile and register a library's functions.
    fn build(
        &self,
        name: &str,
        code: &[u8],
        body: &[u8],
        timeout: Option<std::time::Duration>,
    ) -> Result<Library, String> {
        let chunk = self
            .vm
            .compile(body, "@user_function")
            .map_err(|e| format!("ERR Error compiling function: {e}"))?;
        let registered = self
            .vm
            .register_library(chunk, timeout)
            .map_err(|e| format!("ERR Error registering functions: {e}"))?;
        if registered.is_empty() {
            return Err("ERR No functions registered".into());
        }
        Ok(Library {
            name: name.to_string(),
            code: code.to_vec(),
            functions: registered
                .into_iter()
                .map(|r| FunctionInfo {
                    name: r.name,
                    description: r.description,
                    flags: r.flags,
                    function: r.function,
                })
                .collect(),
        })
    }

    /// FUNCTION LOAD [REPLACE] code: the library's name.
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<String, String> {
        let mut registry = std::mem::take(&mut self.current);
        let result = self.create(code, &mut registry, replace, Some(LOAD_TIMEOUT));
        self.current = registry;
        self.update_counts();
        result
    }

    /// FUNCTION DELETE: false when there is no such library.
    pub fn delete(&mut self, name: &[u8]) -> bool {
        let found = self
            .current
            .unlink(&String::from_utf8_lossy(name))
            .is_some();
        self.update_counts();
        found
    }

    /// FUNCTION FLUSH.
    pub fn flush(&mut self) {
        self.current = Registry::default();
        self.update_counts();
        let _ = self.vm.lua.gc_collect();
    }

    /// The libraries in name order (FUNCTION LIST, DUMP).
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.current.libraries.values()
    }

    /// The flags of function `name`, if it exists (FCALL's checks).
    pub fn flags(&self, name: &str) -> Option<ScriptFlags> {
        self.current.function(name).map(|f| f.flags)
    }

    /// The function's name as registered (for error texts and STATS).
    pub fn registered_name(&self, name: &str) -> Option<String> {
        self.current.function(name).map(|f| f.name.clone())
    }

    /// FCALL: run function `name` with KEYS and ARGV as its arguments.
    pub fn call(
        &self,
        name: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        runner: &mut dyn Runner,
    ) -> Outcome {
        let Some(f) = self.current.function(name) else {
            return Outcome {
                reply: ScriptReply::Error {
                    text: "ERR Function not found".into(),
                    counted: false,
                },
                resp: 2,
            };
        };
        let function = f.function.clone();
        let label = f.name.clone();
        self.vm.run(&function, &label, keys, argv, runner)
    }

    /// Memory the function interpreter uses, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.vm.lua.used_memory()
    }

    /// FUNCTION DUMP: Redis's payload of every library.
    pub fn dump(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for library in self.current.libraries.values() {
            out.push(RDB_OPCODE_FUNCTION2);
            rdb::write_string(&mut out, &library.code);
        }
        rdb::seal_dump(out)
    }

    /// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] (Redis's
    /// functionRestoreCommand): all libraries of the payload or none.
    pub fn restore(&mut self, payload: &[u8], policy: RestorePolicy) -> Result<(), String> {
        let Some(body) = rdb::open_dump(payload) else {
            return Err("ERR DUMP payload version or checksum are wrong".into());
        };
        let mut loaded = Registry::default();
        let mut reader = rdb::Reader::new(body);
        while reader.remaining() > 0 {
            let code = match reader.byte() {
                Ok(RDB_OPCODE_FUNCTION2) => reader
                    .string()
                    .map_err(|_| "ERR Failed loading library payload".to_string())?,
                Ok(RDB_OPCODE_FUNCTION) => {
                    let mut field = |what: &str| {
                        reader
                            .string()
                            .map_err(|_| format!("ERR Failed loading {what}"))
                    };
                    let name = field("library name")?;
                    let engine = field("engine name")?;
                    let has_desc = reader.length().map_err(|_| {
                        "ERR Failed loading library description indicator".to_string()
                    })?;
                    if has_desc != 0 {
                        reader
                            .string()
                            .map_err(|_| "ERR Failed loading library description".to_string())?;
                    }
                    let blob = reader
                        .string()
                        .map_err(|_| "ERR Failed loading library blob".to_string())?;
                    let mut code = b"#!".to_vec();
                    code.extend_from_slice(&engine);
                    code.extend_from_slice(b" name=");
                    code.extend_from_slice(&name);
                    code.push(b'\n');
                    code.extend_from_slice(&blob);
                    code
                }
                Ok(_) => return Err("ERR given type is not a function".into()),
                Err(_) => return Err("ERR can not read data type".into()),
            };
            self.create(&code, &mut loaded, false, None)?;
        }
        match policy {
            RestorePolicy::Flush => self.current = loaded,
            RestorePolicy::Append | RestorePolicy::Replace => {
                self.join(loaded, policy == RestorePolicy::Replace)?
            }
        }
        self.update_counts();
        Ok(())
    }

    /// Add `loaded`'s libraries to the current ones (Redis's libraryJoin):
    /// an existing library name fails unless `replace`; a function name
    /// another library has always fails; a failure changes nothing.
    fn join(&mut self, loaded: Registry, replace: bool) -> Result<(), String> {
        let mut replaced = Vec::new();
        for name in loaded.libraries.keys() {
            if self.current.libraries.contains_key(name) {
                if !replace {
                    self.relink(replaced);
                    return Err(format!("ERR Library {name} already exists"));
                }
                if let Some(old) = self.current.unlink(name) {
                    replaced.push(old);
                }
            }
        }
        for library in loaded.libraries.values() {
            if let Some(f) = self.current.collision(library) {
                let err = format!("ERR Function {f} already exists");
                self.relink(replaced);
                return Err(err);
            }
        }
        for (_, library) in loaded.libraries {
            self.current.link(library);
        }
        Ok(())
    }

    fn relink(&mut self, libraries: Vec<Library>) {
        for library in libraries {
            self.current.link(library);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_lines() {
        let md = metadata(b"#!lua name=mylib\nreturn 1").unwrap();
        assert_eq!(
            (md.engine.as_slice(), md.name.as_slice()),
            (&b"lua"[..], &b"mylib"[..])
        );
        assert_eq!(md.body, b"\nreturn 1");
        assert_eq!(metadata(b"#!lua name=\"foo\"\n").unwrap().name, b"foo");
        assert_eq!(metadata(b"#! name=x\n").unwrap().engine, b"");
        for (code, err) in [
            (&b"return 1"[..], "Missing library metadata"),
            (b"#!lua name=x", "Invalid library metadata"),
            (b"#!lua\n", "Library name was not given"),
            (
                b"#!lua name=a name=b\n",
                "Invalid metadata value, name argument was given multiple times",
            ),
            (
                b"#!lua name=a foo=bar\n",
                "Invalid metadata value given: foo=bar",
            ),
            (b"#!lua name=\"a\n", "Invalid library metadata"),
        ] {
            assert_eq!(
                metadata(code).err().as_deref(),
                Some(err),
                "{}",
                String::from_utf8_lossy(code)
            );
        }
    }
}
