//! Which globals are safe, unknown or dangerous: a name-only judgement, made on the
//! name Python would import (after the Python 2 renames).
//!
//! It knows nothing of opcodes; the walk asks it about names and attribute paths.

use super::Severity;
use crate::resolve::{allow, compat};

/// Whole modules (and their submodules) that execute code, touch files, processes or the
/// network, or load further pickles.
static DANGEROUS_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "sys",
    "subprocess",
    "_posixsubprocess",
    "runpy",
    "pty",
    "webbrowser",
    "socket",
    "_socket",
    "shutil",
    "pickle",
    "_pickle",
    "pickletools",
    "shelve",
    "marshal",
    "importlib",
    "imp",
    "zipimport",
    "ctypes",
    "_ctypes",
    "code",
    "codeop",
    "dill",
    "cloudpickle",
    // Its loaders (`joblib.load`), `Memory`, `Parallel`; its array wrappers are data
    // (`allow::JOBLIB`, checked first).
    "joblib",
    "multiprocessing",
    "_multiprocessing",
    "asyncio",
    "timeit",
    "pdb",
    "bdb",
    "trace",
    "profile",
    "cProfile",
    "pydoc",
    "doctest",
    "idlelib",
    "signal",
    "_thread",
    "threading",
    "tempfile",
    "urllib.request",
    "http.client",
    "http.server",
    "ftplib",
    "smtplib",
    "telnetlib",
    "xmlrpc",
    "requests",
    "httpx",
    "urllib3",
    "aiohttp",
    "winreg",
    "_winapi",
    // Installs (and so runs) arbitrary packages: `pip.main(['install', ...])`,
    // `pip._internal.cli.main.main`.
    "pip",
    "ensurepip",
    "_io",
    "io",
    "torch.hub",
    "torch.serialization",
    "torch.jit",
    "torch.package",
    "torch._C",
    "torch.ops",
    "torch.utils.cpp_extension",
    "numpy.f2py",
    "numpy.testing",
    "numpy.distutils",
    "numpy.lib.npyio",
];

/// Single names that are dangerous although their module is not.
static DANGEROUS_NAMES: &[&str] = &[
    "builtins.eval",
    "builtins.exec",
    "builtins.execfile",
    "builtins.compile",
    "builtins.__import__",
    "builtins.open",
    "builtins.file",
    "builtins.breakpoint",
    "builtins.input",
    "builtins.raw_input",
    "builtins.setattr",
    "builtins.delattr",
    "builtins.globals",
    "builtins.locals",
    "builtins.vars",
    "builtins.help",
    "builtins.exit",
    "builtins.quit",
    "builtins.reload",
    "builtins.memoryview",
    "types.CodeType",
    "types.FunctionType",
    "types.LambdaType",
    "types.MethodType",
    "types.ModuleType",
    "types.BuiltinFunctionType",
    "types.BuiltinMethodType",
    "operator.attrgetter",
    "operator.methodcaller",
    "operator.getitem",
    "functools.reduce",
    "torch.load",
    "torch.storage._load_from_bytes",
    "torch.from_file",
    "torch.save",
    "numpy.load",
    "numpy.loads",
    "numpy.loadtxt",
    "numpy.genfromtxt",
    "numpy.fromfile",
    "numpy.save",
    "numpy.savez",
    "numpy.memmap",
    "numpy.ctypeslib",
];

/// Names inside a dangerous module that only build data (structure sequences).
static HARMLESS_IN_DANGEROUS: &[&str] = &[
    "os.stat_result",
    "posix.stat_result",
    "nt.stat_result",
    "os.terminal_size",
    "posix.times_result",
    "os.times_result",
    "sys.intern",
    "io.BytesIO",
    "_io.BytesIO",
    "io.StringIO",
    "_io.StringIO",
];

/// Module names that, reached as an attribute of anything, hand out the dangerous API.
/// (As a part of a module path only [`MODULE_ALIASES`] count.)
static DANGEROUS_ATTRS: &[&str] = &[
    "os",
    "posix",
    "nt",
    "sys",
    "_sys",
    "subprocess",
    "builtins",
    "__builtins__",
    "__builtin__",
    "importlib",
    "_os",
    "shutil",
    "socket",
    "ctypes",
    "pickle",
    "_pickle",
    "marshal",
    "runpy",
    "system",
    "popen",
    "eval",
    "exec",
];

/// Dangerous modules a package can hand out as one of its submodules: a module path is
/// imported (`__import__` then `sys.modules`), so `pkg.x.os` is pkg's own module unless
/// a compatibility layer registers an alias under that name, as `six.moves.cPickle`,
/// `six.moves.builtins` or `future.moves.subprocess` do. Such layers alias the public
/// names of modules; a private name (`numpy.random._pickle`) or a function name
/// (`pkg.eval`) in a module path is the package's own module.
static MODULE_ALIASES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "sys",
    "subprocess",
    "builtins",
    "__builtin__",
    "importlib",
    "shutil",
    "socket",
    "ctypes",
    "pickle",
    "cPickle",
    "marshal",
    "runpy",
    "commands",
];

/// Which of joblib's array wrappers a global is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrapper {
    /// `NumpyArrayWrapper` (joblib >= 0.10): the array's bytes follow its BUILD.
    Inline,
    /// `NDArrayWrapper` / `ZNDArrayWrapper` (joblib < 0.10): the array is in a file next
    /// to the dump.
    File,
}

/// `joblib.numpy_pickle.NumpyArrayWrapper` and the old wrappers, under joblib and under
/// the copy scikit-learn < 0.23 shipped (`sklearn.externals.joblib`).
pub(crate) fn joblib_wrapper(path: &str) -> Option<Wrapper> {
    let rest = path
        .strip_prefix("joblib.")
        .or_else(|| path.strip_prefix("sklearn.externals.joblib."))?;
    match rest {
        "numpy_pickle.NumpyArrayWrapper" => Some(Wrapper::Inline),
        "numpy_pickle.NDArrayWrapper"
        | "numpy_pickle.ZNDArrayWrapper"
        | "numpy_pickle_compat.NDArrayWrapper"
        | "numpy_pickle_compat.ZNDArrayWrapper" => Some(Wrapper::File),
        _ => None,
    }
}

/// Python 3's name for a Python 2 global (`__builtin__.eval` → `builtins.eval`), if
/// it was renamed. Applied whatever the protocol: Python 2 imports the old name.
pub(crate) fn rename(module: &str, name: &str) -> Option<(String, String)> {
    compat::rename(module, name).map(|(m, n)| (m.to_string(), n.unwrap_or(name).to_string()))
}

/// A dunder attribute other than `__new__` (which CPython itself writes for classes
/// with keyword-only constructors).
fn is_dunder(p: &str) -> bool {
    p.len() > 4 && p.starts_with("__") && p.ends_with("__") && p != "__new__"
}

fn in_module(module: &str, m: &str) -> bool {
    module == m
        || module
            .strip_prefix(m)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The severity of importing `module.name` (already renamed), and why.
pub(crate) fn global(module: &str, name: &str) -> (Severity, &'static str) {
    let full = format!("{module}.{name}");
    if allow::is_known_data(module, name) {
        return (Severity::Safe, "builds data");
    }
    if HARMLESS_IN_DANGEROUS.contains(&full.as_str()) {
        return (Severity::Unknown, "");
    }
    if DANGEROUS_NAMES.contains(&full.as_str())
        || DANGEROUS_NAMES
            .iter()
            .any(|d| full.starts_with(d) && full.as_bytes().get(d.len()) == Some(&b'.'))
    {
        return (Severity::Dangerous, "executes code or touches the system");
    }
    if DANGEROUS_MODULES.iter().any(|m| in_module(&full, m)) {
        return (Severity::Dangerous, "executes code or touches the system");
    }
    // A dotted name walks attributes from the module (protocol 4's `_getattribute`):
    // a dunder or a module handed out by an attribute is a way out.
    let parts: Vec<&str> = name.split('.').collect();
    if parts.iter().any(|p| is_dunder(p)) {
        return (
            Severity::Dangerous,
            "a dunder attribute reaches the interpreter's internals",
        );
    }
    if parts.iter().any(|p| DANGEROUS_ATTRS.contains(p)) {
        return (
            Severity::Dangerous,
            "an attribute chain reaches a dangerous module",
        );
    }
    // The same through an alias in the module path (`six.moves.cPickle.loads` is
    // `pickle.loads`).
    let mparts: Vec<&str> = module.split('.').collect();
    if mparts.len() > 1 && mparts[1..].iter().any(|p| MODULE_ALIASES.contains(p)) {
        return (
            Severity::Dangerous,
            "an attribute chain reaches a dangerous module",
        );
    }
    (Severity::Unknown, "")
}

/// The severity of an attribute path reached at run time (`getattr(obj, 'name')` where
/// `obj` is a global or a module from `__import__`).
pub(crate) fn path(path: &str) -> Severity {
    match path.rsplit_once('.') {
        Some((m, n)) => {
            let (s, _) = global(m, n);
            let dunder = path.split('.').skip(1).any(is_dunder);
            let module_attr = path
                .split('.')
                .skip(1)
                .any(|p| DANGEROUS_ATTRS.contains(&p));
            if dunder || module_attr {
                Severity::Dangerous
            } else {
                s
            }
        }
        None => {
            if DANGEROUS_MODULES.contains(&path) || DANGEROUS_ATTRS.contains(&path) {
                Severity::Dangerous
            } else {
                Severity::Unknown
            }
        }
    }
}
