"""Commands for instructors (batch grading, nbgrader, Gradescope)."""

from __future__ import annotations

from pathlib import Path

import click


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    group.add_command(nbgrader_group)


# -- nbgrader: grade nbgrader generate / autograde ------------------------------------------
# Plain functions live in grader/classroom/ (nbgrader_source.py, nbgrader_autograde.py).


@click.group("nbgrader")
def nbgrader_group() -> None:
    """Run these exercises as an nbgrader assignment.

    \b
    grade nbgrader generate COURSE_DIR     write source/autograd/autograd.ipynb
    nbgrader generate_assignment autograd  (in COURSE_DIR) release it as usual
    grade nbgrader autograde COURSE_DIR    grade submitted/ out of kernel into the gradebook
    nbgrader generate_feedback autograd    then feedback and export as usual
    """


def assignment_option(fn):  # type: ignore[no-untyped-def]
    return click.option(
        "--assignment",
        default="autograd",
        show_default=True,
        help="nbgrader assignment name.",
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
@click.option("--force", is_flag=True, help="Overwrite an existing source notebook.")
def nbgrader_generate_command(
    course_dir: Path, assignment: str, only: tuple[str, ...], force: bool
) -> None:
    """Write the nbgrader source assignment COURSE_DIR/source/ASSIGNMENT/autograd.ipynb."""
    generate_source(course_dir=course_dir, assignment=assignment, only=only, force=force)


def generate_source(
    *, course_dir: Path, assignment: str, only: tuple[str, ...], force: bool
) -> None:
    from grader.classroom.nbgrader_source import ASSIGNMENT_NAME, write_source_assignment
    from grader.cli.main import exercise_names

    if not ASSIGNMENT_NAME.match(assignment):
        raise click.UsageError(
            f"--assignment {assignment!r}: use letters, digits, '_', '-' and '.' only"
        )
    exercises = exercise_names(only)
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
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the hidden inputs, the same for the whole class (default: a fresh secret seed).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds each exercise may run.",
)
@click.option(
    "--memory",
    type=click.IntRange(min=64),
    default=1024,
    show_default=True,
    help="Megabytes of memory each exercise may use.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the feedback written into the notebooks (default: from LANG).",
)
def nbgrader_autograde_command(
    course_dir: Path,
    assignment: str,
    students: tuple[str, ...],
    seed: int | None,
    timeout: float,
    memory: int,
    lang: str | None,
) -> None:
    """Grade COURSE_DIR/submitted/*/ASSIGNMENT/*.ipynb out of kernel, into the gradebook.

    Learners' code runs only in the grader's sandbox, never in a notebook
    kernel, so code that patches the test cells earns nothing. Scores and
    feedback go through nbgrader's own autograde step into the gradebook and
    autograded/, so `nbgrader generate_feedback` and `nbgrader export` work as
    usual.
    """
    from grader.cli.main import resolve_lang

    autograde(
        course_dir=course_dir,
        assignment=assignment,
        students=students,
        seed=seed,
        timeout=timeout,
        memory=memory,
        lang=resolve_lang(lang),
    )


def autograde(
    *,
    course_dir: Path,
    assignment: str,
    students: tuple[str, ...],
    seed: int | None,
    timeout: float,
    memory: int,
    lang: str,
) -> None:
    try:
        from grader.classroom.nbgrader_autograde import CourseError, RecordError, autograde_course
    except ImportError as exc:
        raise click.UsageError(
            f"nbgrader is not installed ({exc.name}): pip install 'autograd-grader[nbgrader]'"
        ) from None
    from grader.grading import Settings
    from grader.runner.execute import Limits

    settings = Settings(seed=seed, limits=Limits(timeout=timeout, memory_mb=memory))
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
                lang=lang,
                on_progress=progress,
            )
        except CourseError as exc:
            raise click.UsageError(str(exc)) from None
        except RecordError as exc:
            raise click.ClickException(str(exc)) from None
    width = max([7, *(len(g.student) for g in report.grades)])
    click.echo(f"{'student':<{width}}  {'notebook':<12} score")
    for g in report.grades:
        click.echo(f"{g.student:<{width}}  {g.notebook:<12} {g.score:g}/{g.max_score:g}")
    click.echo(
        f"{len(report.grades)} notebooks: graded in {report.grading_seconds:.1f} s, "
        f"recorded in nbgrader's gradebook in {report.gradebook_seconds:.1f} s "
        f"(hidden inputs: --seed {report.seed})."
    )
    for student, why in report.failed:
        click.echo(f"nbgrader could not record {student}: {why}", err=True)
    if report.failed:
        raise click.exceptions.Exit(1)
