#!/usr/bin/env python3
"""Execute a Jupyter notebook on the Deno kernel without losing outputs, then export HTML.

Why not `jupyter nbconvert --execute`: the Deno kernel can publish a cell's outputs on iopub
*after* it has reported the cell idle, and some versions send `"transient": null`. nbclient
stops listening at idle (dropping those outputs) and indexes `transient` as a dict (crashing).
This executor routes every iopub message by its parent message id, keeps listening after
idle until the channel has been quiet for a while, and treats a null `transient` as empty.

Usage: execute_notebook.py IN.ipynb OUT.ipynb [--html OUT.html] [--plotly-js FILE] [--cwd DIR]
                           [--kernel NAME] [--timeout SECONDS] [--quiet-ms MS]

The HTML carries plotly.js (FILE) once in its head when a cell shows a plotly chart: the
charts' own HTML only draws with the page's copy (lib/report/chart.ts).

Under load the Deno kernel can also send a message that does not deserialise (bad signature,
missing delimiter: the frames of two large messages interleaved); its outputs are lost, so the
notebook is run again from the start, up to RUNS times, with a warning on stderr.

Exit status: 0 all cells ran; 1 a cell raised (its source and traceback are printed);
2 bad usage or missing Python packages; 3 the kernel died, failed to start, timed out or kept
sending malformed messages.
Uses the Debian Jupyter packages listed in tools/ci_apt_packages.txt (tools/setup.sh installs
them; `deno task render` names them when they are missing).
"""

import argparse
import os
import queue
import sys
import time

MISSING = []
try:
    import nbformat
    from jupyter_client.manager import KernelManager
except ImportError as e:  # pragma: no cover - reported to the user
    MISSING.append(str(e))


class CellError(Exception):
    """A cell raised; carries the cell index for the report."""

    def __init__(self, index, source, ename, evalue, traceback):
        super().__init__(f"cell {index} raised {ename}: {evalue}")
        self.index, self.source = index, source
        self.ename, self.evalue, self.traceback = ename, evalue, traceback


class KernelFailure(Exception):
    """The kernel died, did not start, or a cell ran past its time limit."""


class MalformedMessage(KernelFailure):
    """The kernel sent a message jupyter_client cannot deserialise; outputs may be lost."""


RUNS = 3


def receive(get_msg, timeout):
    """One message from a channel; a message that does not deserialise is a MalformedMessage."""
    try:
        return get_msg(timeout=timeout)
    except ValueError as e:  # jupyter_client: "Invalid Signature", "'<IDS|MSG>' is not in list"
        raise MalformedMessage(f"the kernel sent a malformed message ({e})") from e


def transient_display_id(content):
    """The display id of an output message; `transient` may be missing or null."""
    return (content.get("transient") or {}).get("display_id")


class OutputRouter:
    """Turns iopub messages into notebook outputs, by the execute request they answer.

    Late messages (after their cell's idle, even while a later cell runs) still land in the
    cell that caused them, because routing uses the parent message id, not "current cell".
    """

    def __init__(self):
        self.cells = {}  # execute msg_id -> code cell (nbformat node)
        self.idle = set()  # msg_ids whose idle status has arrived
        self.displays = {}  # display_id -> list of output nodes showing it
        self.clear_pending = set()  # msg_ids with clear_output(wait=True) pending
        self.last_message = time.monotonic()

    def track(self, msg_id, cell):
        cell.outputs = []
        self.cells[msg_id] = cell

    def route(self, msg):
        """Applies one iopub message; returns nothing. Unknown parents are ignored."""
        self.last_message = time.monotonic()
        parent = (msg.get("parent_header") or {}).get("msg_id")
        cell = self.cells.get(parent)
        kind = msg["header"]["msg_type"]
        content = msg["content"]
        if cell is None:
            return
        if kind == "status":
            if content.get("execution_state") == "idle":
                self.idle.add(parent)
            return
        if kind == "execute_input":
            cell.execution_count = content.get("execution_count")
            return
        if kind == "clear_output":
            if content.get("wait"):
                self.clear_pending.add(parent)
            else:
                self._clear(cell)
            return
        if kind == "update_display_data":
            for output in self.displays.get(transient_display_id(content), []):
                output.data = content.get("data", {})
                output.metadata = content.get("metadata", {})
            return
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return  # comm messages, debug events, ...
        if parent in self.clear_pending:
            self.clear_pending.discard(parent)
            self._clear(cell)
        if kind == "stream":
            last = cell.outputs[-1] if cell.outputs else None
            if last is not None and last.output_type == "stream" and last.name == content["name"]:
                last.text += content["text"]  # consecutive writes form one output, as in Jupyter
                return
        if kind in ("display_data", "execute_result"):
            content.setdefault("metadata", {})
            content.setdefault("data", {})  # the kernel omits it for a value that displays as nothing
        output = nbformat.v4.output_from_msg(msg)
        if kind == "execute_result":
            cell.execution_count = content.get("execution_count", cell.execution_count)
        display_id = transient_display_id(content)
        if display_id:
            self.displays.setdefault(display_id, []).append(output)
        cell.outputs.append(output)

    def _clear(self, cell):
        cell.outputs = []  # stale entries in self.displays are harmless: no cell shows them


def first_error(cell):
    for output in cell.outputs:
        if output.output_type == "error":
            return output
    return None


class Executor:
    def __init__(self, kernel_name, cwd, timeout, quiet_s):
        self.kernel_name, self.cwd = kernel_name, cwd
        self.timeout, self.quiet_s = timeout, quiet_s
        self.router = OutputRouter()

    def pump(self, until, deadline):
        """Reads iopub until `until()` holds, failing at `deadline` or if the kernel dies."""
        while not until():
            if time.monotonic() > deadline:
                raise KernelFailure(f"timed out after {self.timeout:.0f} s")
            try:
                msg = receive(self.kc.get_iopub_msg, min(self.quiet_s, 0.25))
            except queue.Empty:
                if not self.km.is_alive():
                    raise KernelFailure("the kernel died")
                continue
            self.router.route(msg)

    def quiet(self):
        return time.monotonic() - self.router.last_message >= self.quiet_s

    def shell_reply(self, msg_id, deadline):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelFailure(f"no execute_reply within {self.timeout:.0f} s")
            try:
                reply = receive(self.kc.get_shell_msg, min(remaining, 1.0))
            except queue.Empty:
                if not self.km.is_alive():
                    raise KernelFailure("the kernel died")
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def run_cell(self, index, cell):
        msg_id = self.kc.execute(cell.source, store_history=True, allow_stdin=False, stop_on_error=True)
        self.router.track(msg_id, cell)
        deadline = time.monotonic() + self.timeout
        reply = self.shell_reply(msg_id, deadline)
        # Idle is not the end: keep reading until nothing has arrived for quiet_s.
        self.pump(lambda: msg_id in self.router.idle and self.quiet(), deadline)
        content = reply["content"]
        if content.get("status") == "error" or first_error(cell) is not None:
            err = first_error(cell)
            if err is None:  # the reply carries the error even if no error output was published
                err = nbformat.v4.new_output("error", ename=content.get("ename", "Error"),
                                             evalue=content.get("evalue", ""),
                                             traceback=content.get("traceback", []))
                cell.outputs.append(err)
            raise CellError(index, cell.source, err.ename, err.evalue, err.traceback)

    def execute(self, nb):
        self.km = KernelManager(kernel_name=self.kernel_name)
        try:
            self.km.start_kernel(cwd=self.cwd)
        except Exception as e:
            raise KernelFailure(f"cannot start kernel '{self.kernel_name}': {e}") from e
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            try:
                self.kc.wait_for_ready(timeout=60)
            except RuntimeError as e:
                raise KernelFailure(f"kernel '{self.kernel_name}' did not become ready: {e}") from e
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if not cell.source.strip():
                    cell.outputs, cell.execution_count = [], None
                    continue
                self.run_cell(index, cell)
        finally:
            self.close()

    def close(self):
        """Collects late outputs, then stops the kernel whatever happened: a kernel left running
        would keep our caller waiting on the output pipes it inherited. A malformed late message
        is raised once the kernel has stopped (outputs were lost)."""
        # Late outputs of earlier cells are routed while later cells run; those of the last
        # (or failing) cell get a longer quiet period, as nothing follows to wait behind.
        final_quiet = max(1.0, 3 * self.quiet_s)
        try:
            self.pump(lambda: time.monotonic() - self.router.last_message >= final_quiet,
                      time.monotonic() + 30)
        except MalformedMessage:
            raise
        except KernelFailure:
            pass  # the kernel died or never fell quiet: what the cells returned stands
        finally:
            try:
                self.kc.stop_channels()
                self.km.shutdown_kernel(now=False)
            except Exception:
                self.km.shutdown_kernel(now=True)


def execute_with_retries(read_notebook, new_executor, runs=RUNS):
    """Runs a fresh copy of the notebook on a fresh executor until no message was malformed.

    Returns the executed notebook; re-raises CellError, KernelFailure, or the last
    MalformedMessage once `runs` runs have had one. The partly executed notebook of a failed
    run is attached to the exception as `.notebook`.
    """
    for run in range(1, runs + 1):
        nb = read_notebook()
        try:
            new_executor().execute(nb)
            return nb
        except (CellError, KernelFailure) as e:
            e.notebook = nb
            if not isinstance(e, MalformedMessage) or run == runs:
                raise
            print(f"execute_notebook: warning: {e}; running the notebook again ({run + 1} of {runs})",
                  file=sys.stderr)


# nbconvert's "lab" template with two head scripts adjusted for pages that are shared: Debian
# points require.js and MathJax at file:///usr/share/javascript/..., which the reader lacks.
# require.js is not needed (the inlined plotly.js registers a global); MathJax is loaded from
# the upstream CDN, and only when a markdown cell has math.
# plotly.js, when a chart needs it, is inlined once in the head for all charts of the page.
SHARED_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{{ super() }}{{ resources.safenet_plotly }}{%- endblock html_head_js -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- if resources.safenet_math -%}{{ super() }}{%- endif -%}{%- endblock html_head_js_mathjax -%}
"""
PLOTLY_MIME = "application/vnd.plotly.v1+json"
MATHJAX_CDN = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe"


def plotly_script(nb, plotly_js):
    """One inline <script> with plotly.js if a cell shows a plotly chart, else ""."""
    charts = any(PLOTLY_MIME in output.get("data", {})
                 for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)
    if not charts:
        return ""
    if not plotly_js:
        raise ValueError("the notebook shows plotly charts: pass --plotly-js with plotly.min.js")
    with open(plotly_js, encoding="utf-8") as f:
        return '<script type="text/javascript">' + f.read().replace("</script", "<\\/script") + "</script>"


def export_html(nb, path, title, plotly_js=None):
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", template_file="safenet.html.j2", mathjax_url=MATHJAX_CDN,
                            extra_loaders=[DictLoader({"safenet.html.j2": SHARED_TEMPLATE})])
    math = any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells)
    resources = {"metadata": {"name": title}, "safenet_math": math, "safenet_plotly": plotly_script(nb, plotly_js)}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--html", help="also export the executed notebook as HTML to this path")
    parser.add_argument("--plotly-js", help="plotly.min.js, inlined once in the HTML if a cell shows a chart")
    parser.add_argument("--cwd", help="kernel working directory (default: the notebook's directory)")
    parser.add_argument("--kernel", help="kernel name (default: the notebook's kernelspec)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per cell")
    parser.add_argument("--quiet-ms", type=float, default=300, help="silence that ends a cell after idle")
    args = parser.parse_args(argv)
    if MISSING:
        print(f"execute_notebook: missing Python packages ({'; '.join(MISSING)}); "
              "install the Debian Jupyter packages of tools/ci_apt_packages.txt (tools/setup.sh does) "
              "and use /usr/bin/python3",
              file=sys.stderr)
        return 2

    nb = nbformat.read(args.input, as_version=4)
    kernel = args.kernel or nb.metadata.get("kernelspec", {}).get("name")
    if not kernel:
        print(f"execute_notebook: {args.input} names no kernelspec; pass --kernel", file=sys.stderr)
        return 2
    cwd = args.cwd or os.path.dirname(os.path.abspath(args.input))
    status = 0
    try:
        nb = execute_with_retries(lambda: nbformat.read(args.input, as_version=4),
                                  lambda: Executor(kernel, cwd, args.timeout, args.quiet_ms / 1000))
    except CellError as e:
        print(f"execute_notebook: {args.input}: cell {e.index} failed with {e.ename}: {e.evalue}\n"
              f"--- cell source ---\n{e.source}\n--- traceback ---\n" + "\n".join(e.traceback),
              file=sys.stderr)
        nb, status = e.notebook, 1
    except KernelFailure as e:
        print(f"execute_notebook: {args.input}: {e}", file=sys.stderr)
        nb, status = e.notebook, 3
    # The executed notebook is written even on failure so the error can be inspected.
    nbformat.write(nb, args.output)
    if args.html and status == 0:
        export_html(nb, args.html, os.path.splitext(os.path.basename(args.input))[0], args.plotly_js)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
