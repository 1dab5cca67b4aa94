"""Commands for instructors (batch grading, nbgrader, Gradescope)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from grader.cli.options import (
    credit_option,
    device_option,
    device_timeout_option,
    memory_option,
    timeout_option,
    units_option,
)


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    group.add_command(nbgrader_group)
    group.add_command(batch_command)
    group.add_command(gradescope_bundle_command)


# -- nbgrader: grade nbgrader generate / autograde ------------------------------------------
# Plain functions live in grader/classroom/ (nbgrader_source.py, nbgrader_autograde.py).


@click.group("nbgrader")
def nbgrader_group() -> None:
    """Run these exercises as nbgrader assignments, one per unit.

    \b
    grade nbgrader generate COURSE_DIR     write source/autograd/autograd.ipynb (unit 1)
    nbgrader generate_assignment autograd  (in COURSE_DIR) release it as usual
    grade nbgrader autograde COURSE_DIR    grade submitted/ out of kernel into the gradebook
    nbgrader generate_feedback autograd    then feedback and export as usual

    For unit 2, add --unit 2 to both grade commands and use the assignment autograd2.
    """


def assignment_option(fn):  # type: ignore[no-untyped-def]
    return click.option(
        "--assignment",
        default=None,
        help="nbgrader assignment name [default: autograd for unit 1, autograd2 for unit 2, ...].",
    )(fn)


@nbgrader_group.command("generate")
@click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))
@assignment_option
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help="Include only this exercise (function name); repeatable. Default: all.",
)
@units_option("Include this unit's exercises; repeatable. Default: unit 1 (with --only: any unit).")
@click.option("--force", is_flag=True, help="Overwrite an existing source notebook.")
def nbgrader_generate_command(
    course_dir: Path,
    assignment: str | None,
    only: tuple[str, ...],
    units: tuple[int, ...],
    force: bool,
) -> None:
    """Write the nbgrader source assignment COURSE_DIR/source/ASSIGNMENT/autograd.ipynb."""
    generate_source(
        course_dir=course_dir, assignment=assignment, only=only, units=units, force=force
    )


def generate_source(
    *,
    course_dir: Path,
    assignment: str | None,
    only: tuple[str, ...],
    force: bool,
    units: tuple[int, ...] = (),
) -> None:
    from grader import registry
    from grader.classroom.nbgrader_source import (
        ASSIGNMENT_NAME,
        assignment_name,
        write_source_assignment,
    )
    from grader.cli.options import exercise_names

    if not units and not only:
        units = registry.units()[:1]  # an assignment is a unit: the first unless asked
    assignment = assignment or assignment_name(units)
    if not ASSIGNMENT_NAME.match(assignment):
        raise click.UsageError(
            f"--assignment {assignment!r}: use letters, digits, '_', '-' and '.' only"
        )
    exercises = exercise_names(only, units)
    try:
        path = write_source_assignment(
            course_dir=course_dir, assignment=assignment, exercises=exercises, force=force
        )
    except FileExistsError as exc:
        raise click.UsageError(f"{exc} exists: pass --force to overwrite it") from None
    total = sum(ex.points for ex in exercises)
    click.echo(f"Wrote {path} ({len(exercises)} exercises, {total:g} points).")
    click.echo(f"Next, in {course_dir}: nbgrader generate_assignment {assignment}")


@nbgrader_group.command("autograde")
@click.argument("course_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@assignment_option
@click.option(
    "--student",
    "students",
    multiple=True,
    metavar="ID",
    help="Grade only this student; repeatable. Default: every submission.",
)
@units_option(
    "Grade this unit's exercises; repeatable. Default: every exercise the assignment has a "
    "test cell for."
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the hidden inputs, the same for the whole class (default: a fresh secret seed).",
)
@device_option
@device_timeout_option
@memory_option
@credit_option
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the feedback written into the notebooks (default: from LANG).",
)
def nbgrader_autograde_command(
    course_dir: Path,
    assignment: str | None,
    students: tuple[str, ...],
    units: tuple[int, ...],
    seed: int | None,
    device: str,
    timeout: float | None,
    memory: int,
    credit: str,
    lang: str | None,
) -> None:
    """Grade COURSE_DIR/submitted/*/ASSIGNMENT/*.ipynb out of kernel, into the gradebook.

    Learners' code runs only in the grader's sandbox, never in a notebook
    kernel, so code that patches the test cells earns nothing. Scores and
    feedback go through nbgrader's own autograde step into the gradebook and
    autograded/, so `nbgrader generate_feedback` and `nbgrader export` work as
    usual.
    """
    from grader.cli.language import resolve_lang

    autograde(
        course_dir=course_dir,
        assignment=assignment,
        students=students,
        units=units,
        seed=seed,
        device=device,
        timeout=timeout,
        memory=memory,
        credit=credit,
        lang=resolve_lang(lang),
    )


def autograde(
    *,
    course_dir: Path,
    assignment: str | None,
    students: tuple[str, ...],
    seed: int | None,
    units: tuple[int, ...] = (),
    device: str = "cpu",
    timeout: float | None = None,
    memory: int = 1024,
    credit: str = "gate",
    lang: str,
) -> None:
    try:
        from grader.classroom.nbgrader_autograde import CourseError, RecordError, autograde_course
    except ImportError as exc:
        raise click.UsageError(
            f"nbgrader is not installed ({exc.name}): pip install 'autograd-grader[nbgrader]'"
        ) from None
    from grader.classroom.nbgrader_source import assignment_name
    from grader.cli.grading import default_limits, resolve_device
    from grader.grading import Settings

    assignment = assignment or assignment_name(units)

    device = resolve_device(device)
    limits = default_limits(device, timeout, memory)
    settings = Settings(device=device, seed=seed, limits=limits, credit=credit)
    with click.progressbar(length=1, label="Grading", file=click.get_text_stream("stderr")) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            report = autograde_course(
                course_dir=course_dir,
                assignment=assignment,
                settings=settings,
                students=students,
                units=units,
                lang=lang,
                on_progress=progress,
            )
        except CourseError as exc:
            raise click.UsageError(str(exc)) from None
        except RecordError as exc:
            raise click.ClickException(str(exc)) from None
    from grader.text_safety import MAX_CHARS, printable

    # Student and notebook names are nbgrader's folder names: shown as printable lines.
    width = max([7, *(len(printable(g.student)) for g in report.grades)])
    click.echo(f"{'student':<{width}}  {'notebook':<12} score")
    for g in report.grades:
        student, notebook = printable(g.student), printable(g.notebook)
        click.echo(f"{student:<{width}}  {notebook:<12} {g.score:g}/{g.max_score:g}")
    click.echo(
        f"{len(report.grades)} notebooks: graded in {report.grading_seconds:.1f} s, "
        f"recorded in nbgrader's gradebook in {report.gradebook_seconds:.1f} s "
        f"(hidden inputs: --seed {report.seed})."
    )
    for student, why in report.failed:
        click.echo(
            f"nbgrader could not record {printable(student)}: {printable(why, MAX_CHARS)}",
            err=True,
        )
    if report.failed:
        raise click.exceptions.Exit(1)


# -- batch and Gradescope: grade batch / gradescope-bundle -----------------------------------
# Plain functions live in grader/classroom/ (batch.py, chunk_process.py, dask_runner.py,
# batch_files.py, gradescope_bundle.py); report formats in grader/report/.


@click.command("batch")
@click.argument("submissions_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grades"),
    show_default=True,
    help="Folder for grades.csv, reports/, summary.txt/.json and pass_rates.png.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions graded at the same time (processes) [default: one per core].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "gradescope", "junit", "text"]),
    default="json",
    show_default=True,
    help="Format of each learner's report in reports/.",
)
@click.option("--only", multiple=True, metavar="NAME", help="Grade only this exercise; repeatable.")
@units_option(
    "Grade this unit's exercises; repeatable. Default: every unit some submission holds an "
    "exercise of."
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the hidden inputs, the same for the whole class (default: a fresh one).",
)
@device_option
@device_timeout_option
@memory_option
@credit_option
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Grade on this Dask distributed cluster (tcp://HOST:8786) instead of this machine.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions per grading process or Dask task [default: chosen from the class size].",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the reports and the summary (default: from LANG).",
)
def batch_command(
    submissions_dir: Path,
    out: Path,
    jobs: int | None,
    fmt: str,
    only: tuple[str, ...],
    units: tuple[int, ...],
    seed: int | None,
    device: str,
    timeout: float | None,
    memory: int,
    credit: str,
    scheduler: str | None,
    chunk_size: int | None,
    lang: str | None,
) -> None:
    """Grade every submission in SUBMISSIONS_DIR: one sub-folder (or .ipynb) per learner.

    \b
    Writes OUT/grades.csv (student,total,max_total, one column per exercise, note),
    OUT/reports/STUDENT.json, OUT/summary.txt, OUT/summary.json and OUT/pass_rates.png,
    and prints the summary. A submission that hangs, crashes or cannot be read
    gets its points (or a 0 and a note) and never stops the batch.
    """
    from grader.cli.language import resolve_lang

    run_batch(
        submissions_dir=submissions_dir,
        out=out,
        jobs=jobs or os.cpu_count() or 1,
        fmt=fmt,
        only=only,
        units=units,
        seed=seed,
        device=device,
        timeout=timeout,
        memory=memory,
        credit=credit,
        scheduler=scheduler,
        chunk_size=chunk_size or 0,
        lang=resolve_lang(lang),
        progress=sys.stderr.isatty(),
    )


def run_batch(
    *,
    submissions_dir: Path,
    out: Path,
    jobs: int,
    fmt: str,
    only: tuple[str, ...],
    seed: int | None,
    device: str = "cpu",
    timeout: float | None = None,
    memory: int = 1024,
    credit: str = "gate",
    scheduler: str | None,
    chunk_size: int,
    lang: str,
    progress: bool,
    units: tuple[int, ...] = (),
) -> None:
    from grader.classroom.batch import (
        RunnerError,
        chunk_size_for,
        class_exercises,
        discover,
        grade_batch,
    )
    from grader.classroom.batch_files import write_all
    from grader.cli.grading import default_limits, resolve_device
    from grader.cli.options import chosen_exercises, exercise_names
    from grader.grading import Settings
    from grader.messages import text
    from grader.submission import SubmissionError

    exercise_names(only, units)  # an unknown name is a usage error before anything is read
    try:
        entries = discover(submissions_dir)
    except SubmissionError as exc:
        raise click.UsageError(str(exc)) from None
    root = submissions_dir.resolve()
    exercises = chosen_exercises(
        lambda: class_exercises(entries, root, only=only, units=units), only, units, lang
    )
    if out.resolve().is_relative_to(submissions_dir.resolve()):
        raise click.UsageError(f"--out {out} is inside {submissions_dir}: choose another folder")
    runner = _batch_runner(scheduler, jobs)
    device = device if scheduler else resolve_device(device)  # a cluster's workers have theirs
    settings = Settings(
        device=device,
        seed=seed,
        limits=default_limits(device, timeout, memory),
        jobs=_threads_per_chunk(),
        credit=credit,
    )
    size = chunk_size_for(len(entries), jobs, chunk_size)
    with contextlib.ExitStack() as stack:
        update = None
        if progress:
            bar = stack.enter_context(
                click.progressbar(
                    length=len(entries),
                    label=text("batch.progress", lang),
                    file=click.get_text_stream("stderr"),
                    show_pos=True,
                )
            )

            def update(done: int, total: int) -> None:
                bar.update(done - bar.pos)

        try:
            batch = grade_batch(
                entries=entries,
                root=root,
                exercises=exercises,
                settings=settings,
                runner=runner,
                chunk_size=size,
                on_progress=update,
            )
        except RunnerError as exc:
            raise click.UsageError(str(exc)) from None
    written = write_all(batch, out, fmt=fmt, lang=lang)
    click.echo(written.summary_text)
    click.echo("")
    click.echo(
        text(
            "batch.written",
            lang,
            csv=written.csv,
            reports=written.reports,
            summary=written.summary_json,
        )
    )
    if written.plot is not None:
        click.echo(text("summary.plot", lang, path=written.plot))
    else:
        click.echo(text("summary.no_plot", lang))


def _batch_runner(scheduler: str | None, jobs: int):  # type: ignore[no-untyped-def]
    """Where chunks run: Dask only when asked (nothing of Dask is imported otherwise)."""
    if scheduler:
        from grader.classroom.dask_runner import DaskRunner

        return DaskRunner(scheduler)
    from grader.classroom.chunk_process import ForkRunner

    return ForkRunner(jobs)


def _threads_per_chunk() -> int:
    """Sandbox runs in flight per chunk process. Two keep a core busy while the
    other run waits on its fork or pipe; more would only make runs wait for a
    core, and the time limits are wall-clock."""
    return 2


@click.command("gradescope-bundle")
@click.argument("out_zip", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--torch",
    "torch_requirement",
    default=None,
    help="The torch requirement setup.sh installs [default: the torch installed here, CPU].",
)
@timeout_option
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of the feedback learners see on Gradescope.",
)
@click.option("--force", is_flag=True, help="Overwrite OUT_ZIP if it exists.")
def gradescope_bundle_command(
    out_zip: Path, torch_requirement: str | None, timeout: float, lang: str, force: bool
) -> None:
    """Write a Gradescope autograder (OUT_ZIP: setup.sh, run_autograder, this package).

    Upload OUT_ZIP as the assignment's autograder. setup.sh installs Python, torch
    (CPU) and this grader; run_autograder grades /autograder/submission (the
    exercise files, or a notebook) into /autograder/results/results.json.
    """
    make_gradescope_bundle(
        out_zip=out_zip,
        torch_requirement=torch_requirement,
        timeout=timeout,
        lang=lang,
        force=force,
    )


def make_gradescope_bundle(
    *, out_zip: Path, torch_requirement: str | None, timeout: float, lang: str, force: bool
) -> None:
    from grader.classroom.gradescope_bundle import BundleError, write_bundle

    if out_zip.exists() and not force:
        raise click.UsageError(f"{out_zip} exists: pass --force to overwrite it")
    try:
        names = write_bundle(
            out_zip, torch_requirement=torch_requirement, timeout=timeout, lang=lang
        )
    except BundleError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Wrote {out_zip} ({len(names)} files): upload it as the Gradescope autograder.")
