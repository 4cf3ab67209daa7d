"""The `socialbot` command line. Heavy imports happen inside each command, so `ask` starts fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

from bot.config import Config

REGIONS = ("sundsvall", "vastervik")
UPDATES = ["message", "edited_message", "callback_query"]  # what `run` asks Telegram for


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(content=args.content, state=args.state)
    except ValueError as exc:
        print(f"socialbot: {exc}", file=sys.stderr)
        return 2
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args, config) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def day(text: str) -> date:
    """A date argument; anything else is a plain message for staff, not Python's "invalid fromisoformat value"."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: write it as YYYY-MM-DD, e.g. 2026-12-01") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socialbot", description=__doc__)
    parser.add_argument("--content", help="content directory (default ./content, env SOCIALBOT_CONTENT)")
    parser.add_argument("--state", help="state directory (default ./state, env SOCIALBOT_STATE)")
    sub = parser.add_subparsers(dest="command")

    def region_lang(p: argparse.ArgumentParser) -> None:
        p.add_argument("--region", choices=REGIONS)
        p.add_argument("--lang", help="a language of content/languages.yaml (sv, en, ar, ...)")

    p = sub.add_parser("chat", help="talk to the bot in the terminal")
    region_lang(p)
    p.add_argument("--user", default="local", help="a name for this terminal conversation")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ask", help="match questions and print the replies")
    region_lang(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("text", nargs="*", help="the question; without it, every line of stdin")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("validate", help="check every content file")
    p.add_argument("--review-months", type=int, default=int(os.environ.get("SOCIALBOT_REVIEW_MONTHS", 6)),
                   help="warn about topics reviewed longer ago than this (default 6, env SOCIALBOT_REVIEW_MONTHS)")  # fmt: skip
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="the whole content as one json or csv document")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--out", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("bookings", help="upcoming bookings, for staff")
    p.add_argument("--region", choices=REGIONS)
    p.add_argument("--from", dest="from_", type=day, help="from this date (YYYY-MM-DD)")
    p.add_argument("--lift-cap", choices=REGIONS, metavar="REGION",
                   help="lift the region's day cap (SOCIALBOT_MAX_BOOKINGS_PER_DAY) for the rest of today; "
                        "the admins are told")  # fmt: skip
    p.set_defaults(func=cmd_bookings)

    p = sub.add_parser("run", help="the Telegram bot (token in TELEGRAM_BOT_TOKEN)")
    p.add_argument(
        "--webhook-url", help="public HTTPS address Telegram should post updates to (webhook mode)"
    )
    p.add_argument("--listen", default="127.0.0.1", help="address to listen on in webhook mode")
    p.add_argument("--port", type=int, default=8443, help="port to listen on in webhook mode")
    p.add_argument(
        "--secret-token", help="webhook secret (default: env TELEGRAM_WEBHOOK_SECRET, or one derived from the token)"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("web", help="the web chat: the page, widget.js and the JSON API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument("--trust-proxy", action="store_true",
                   help="take the client address from X-Forwarded-For (only behind your own TLS proxy)")
    p.add_argument("--origins", default="*",
                   help="comma-separated origins allowed to embed the widget (default: any)")
    p.set_defaults(func=cmd_web)

    p = sub.add_parser("stats", help="anonymised conversation statistics for the project leader")
    p.add_argument("--since", type=day, help="from this day (YYYY-MM-DD, Swedish time)")
    p.add_argument("--until", type=day, help="to this day, included (YYYY-MM-DD)")
    p.add_argument("--format", choices=("table", "json", "csv", "html"), default="table")
    p.add_argument("--out", help="file to write (default: stdout)")
    p.add_argument(
        "--mail",
        action="store_true",
        help="e-mail the monthly report (last month, or --since/--until) to SOCIALBOT_REPORT_EMAIL",
    )
    p.add_argument("--to", help="with --mail: this address instead of SOCIALBOT_REPORT_EMAIL")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("review", help="turn the questions the bot could not answer into content")
    action = p.add_mutually_exclusive_group()
    action.add_argument(
        "--list", action="store_true", help="print the groups, newest first: ID<TAB>asked K time(s)<TAB>example"
    )
    action.add_argument("--assign", nargs=2, metavar=("ID", "TOPIC"),
                        help="add the group's example to TOPIC (ID as --list shows it, e.g. q17)")  # fmt: skip
    action.add_argument(
        "--out-of-scope", metavar="ID", help="add the group's example to the out-of-scope ones"
    )
    action.add_argument("--dismiss", metavar="ID", help="drop the group from the list")
    p.add_argument("--json", action="store_true", help="with --list: one JSON document")
    p.add_argument("--text", help="with --assign/--out-of-scope: add this (edited) example instead of the group's")
    p.add_argument("--force", action="store_true",
                   help="with --assign/--out-of-scope: add an example with removed personal data ([namn] …) as it is")  # fmt: skip
    p.add_argument("--lang", help="the example's language (default: as its words say, else the chat's)")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("purge", help="delete personal data older than the retention period")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("migrate-store", help="copy the SQLite state (--state) into a new PostgreSQL database")
    p.add_argument("--to", help="postgresql:// URL of the target (default: env SOCIALBOT_DATABASE_URL)")
    p.set_defaults(func=cmd_migrate_store)
    return parser


def _knowledge(config: Config, *, matcher: bool = True):  # type: ignore[no-untyped-def]
    """Load the content (and train or reuse its matcher), or print its problems as FILE:LINE and return None.

    Without `matcher` only the content is loaded (a `Content`), for commands that need names, not answers."""
    from bot.content import ContentError, load_content
    from bot.knowledge import Knowledge

    try:
        if not matcher:
            return load_content(config.content_dir)
        return Knowledge.load(config.content_dir, cache_dir=config.cache_dir)
    except ContentError as exc:
        print(f"socialbot: the content in {config.content_dir} has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"{config.content_dir}/{problem}", file=sys.stderr)
        print("Fix them (see content/README.md) and run `socialbot validate`.", file=sys.stderr)
        return None


def _store(config: Config):  # type: ignore[no-untyped-def]
    from bot.storage import open_store

    return open_store(config.state_dir)


def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    from bot.channels.terminal import TerminalNotifier, run_chat
    from bot.engine import Engine, Settings

    knowledge = _knowledge(config)
    if knowledge is None:
        return 1
    store = _store(config)
    settings = Settings(retention_days=config.retention_days, keep_unanswered=config.keep_unanswered,
                        limits=config.limits)
    engine = Engine(knowledge, store, channel="terminal", notifier=TerminalNotifier(sys.stderr),
                    settings=settings)  # fmt: skip
    try:
        return run_chat(engine, conversation=f"terminal:{args.user}", lang=args.lang, region=args.region,
                        files_dir=config.state_dir / "files")  # fmt: skip
    finally:
        store.close()


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    import json

    from bot.dialog.core import Context, step
    from bot.dialog.model import Record, State, TextMessage, View

    knowledge = _knowledge(config)
    if knowledge is None:
        return 1
    questions = [" ".join(args.text)] if args.text else (line.rstrip("\n") for line in sys.stdin)
    now = datetime.now(UTC)
    for question in questions:
        match = knowledge.matcher.match(question)
        lang = args.lang or (match.lang if match.lang in knowledge.content.languages else None) or "sv"
        region = args.region or next(iter(knowledge.content.regions))
        # With the crisis check, as in every chat: staff trying "i want to die" see what a person would get.
        context = Context(knowledge.content, knowledge.matcher, View(now), crisis=knowledge.crisis)
        outcome = step(State(lang=lang, region=region), TextMessage(question), context)
        reply = "\n\n".join(r.text for r in outcome.replies)
        crisis = any(isinstance(effect, Record) and effect.action == "crisis" for effect in outcome.effects)
        if crisis and not args.json:
            print(f"[crisis] {reply}\n")
            continue
        if args.json:
            record = {"text": question, "topic": match.topic, "score": round(match.score, 4), "reply": reply,
                      "crisis": crisis,
                      "did_you_mean": list(match.did_you_mean), "region": region,
                      "lang": next((r.lang for r in outcome.replies if r.lang), lang)}  # fmt: skip
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"[{match.topic or 'fallback'} {match.score:.2f}] {reply}\n")
    return 0


def cmd_validate(args: argparse.Namespace, config: Config) -> int:
    from bot.content.validator import validate

    report = validate(config.content_dir, review_months=args.review_months, cache_dir=config.cache_dir)
    if not report.ok:
        for problem in report.problems:
            print(f"{config.content_dir}/{problem}")
        errors = sum(not problem.warning for problem in report.problems)
        print(f"{errors} problem(s) in {config.content_dir}", file=sys.stderr)
        return 1
    content = report.content
    assert content is not None
    examples = sum(1 for _ in content.examples())
    warnings = len(report.problems)
    print(f"ok: {len(content.topics)} topics, {len(content.regions)} regions, {examples} examples, "
          f"languages {', '.join(content.languages)}"
          + (f"; {warnings} warning(s) below (drafts to finish, contacts to confirm, topics to review)" if warnings else
             ", every example routes to its own topic"))  # fmt: skip
    for problem in report.problems:
        print(f"{config.content_dir}/{problem}")
    if report.stale:
        print(f"{len(report.stale)} topic(s) to review (older than {args.review_months} months): "
              f"{', '.join(report.stale)}")  # fmt: skip
    return 0


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    from bot.content.export import export_rows, write_csv, write_json

    knowledge = _knowledge(config)
    if knowledge is None:
        return 1
    rows = export_rows(knowledge.content)
    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        (write_csv if args.format == "csv" else write_json)(rows, out)
    finally:
        if args.out:
            out.close()
    return 0


def cmd_bookings(args: argparse.Namespace, config: Config) -> int:
    from bot.booking.slots import parse_slot_key
    from bot.dialog.core import format_when

    content = _knowledge(config, matcher=False)
    if content is None:
        return 1
    store = _store(config)
    if args.lift_cap:
        return _lift_cap(store, config, content, args.lift_cap)
    start = datetime.combine(args.from_, datetime.min.time(), tzinfo=UTC) if args.from_ else datetime.now(UTC)
    bookings = store.upcoming(start, args.region)
    if not bookings:  # in Swedish, as the dates and the business developers who read it
        print("Inga kommande bokningar.")
        return 0
    rows = [("Tid", "Region", "Kontaktperson", "Namn", "Telefon", "Bokningsnummer")]
    rows += [(format_when(parse_slot_key(b.slot), "sv"), b.region, content.region(b.region).contact.name,
              b.name or "-", b.phone or "chatten", b.id) for b in bookings]  # fmt: skip
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]))
    return 0


def _lift_cap(store, config: Config, content, region: str) -> int:  # type: ignore[no-untyped-def]
    """`bookings --lift-cap REGION`: as /liftcap in an admin chat; the running bot sends the admins' notice."""
    import getpass
    import socket

    from bot.mail import SmtpSettings
    from bot.runtime import lift_cap

    try:
        mail = SmtpSettings.from_env() is not None
    except ValueError:
        mail = False
    who = f"{getpass.getuser()}@{socket.gethostname()} (socialbot bookings --lift-cap)"
    done, answer = lift_cap(store, config, content, region, who, datetime.now(UTC), mail=mail)
    print(answer)
    return 0 if done else 1


def webhook_secret(token: str) -> str:
    """The webhook's default secret, derived from the token: every worker of one bot registers the same one
    (a random secret per worker would lock the others out), and it tells nothing that the token does not."""
    import hashlib
    import hmac

    return hmac.new(token.encode(), b"socialbot webhook secret", hashlib.sha256).hexdigest()


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    import os

    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    from bot.channels.telegram import EXIT_UNAUTHORIZED, TelegramChannel, valid_token

    if not token:
        print(
            "socialbot: set TELEGRAM_BOT_TOKEN to the token BotFather gave you (see README.md).",
            file=sys.stderr,
        )
        return 2
    if not valid_token(token):
        print("socialbot: TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters).",
              file=sys.stderr)  # fmt: skip
        return 2
    knowledge = _knowledge(config)
    if knowledge is None:
        return 1
    from bot.channels.guard import LogGuard
    from bot.engine import Engine, Settings

    _logging()
    LogGuard(token).install()
    store = _store(config)
    settings = Settings(retention_days=config.retention_days, keep_unanswered=config.keep_unanswered,
                        limits=config.limits)
    engine = Engine(knowledge, store, channel="telegram", settings=settings)
    from bot.runtime import transports_from_env

    try:  # e-mail beside Telegram when SMTP is configured; the channel adds its own Telegram transport
        extra = transports_from_env({k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"})
    except ValueError as exc:
        print(f"socialbot: {exc}", file=sys.stderr)
        return 2
    channel = TelegramChannel(engine, config, transports=extra)
    application = channel.build(token, base_url=os.environ.get("TELEGRAM_BASE_URL") or None)
    from telegram.error import InvalidToken

    try:
        if args.webhook_url:
            secret = (
                args.secret_token or os.environ.get("TELEGRAM_WEBHOOK_SECRET") or webhook_secret(token)
            )
            from bot.channels.webhook import run_webhook

            run_webhook(application, listen=args.listen, port=args.port, secret=secret, allowed_updates=UPDATES,
                        webhook_url=args.webhook_url.rstrip("/") + "/telegram")  # fmt: skip
        else:
            application.run_polling(allowed_updates=UPDATES)
    except InvalidToken:  # refused at start-up (getMe): a revoked or mistyped token
        print("socialbot: Telegram rejected TELEGRAM_BOT_TOKEN (401): it was revoked or mistyped; "
              "copy the current one from @BotFather.", file=sys.stderr)  # fmt: skip
        return EXIT_UNAUTHORIZED
    finally:
        store.close()
    if channel.exit_code:
        print(f"socialbot: stopped with exit code {channel.exit_code} (see the log above and README).",
              file=sys.stderr)  # fmt: skip
    return channel.exit_code


def cmd_review(args: argparse.Namespace, config: Config) -> int:
    import dataclasses
    import json

    from bot import review

    now = datetime.now(UTC)
    store = _store(config)
    try:
        if args.list:
            groups = review.current_groups(store)
            review.save_listing(config.state_dir, groups, now)
            if args.json:
                print(json.dumps([g.to_dict() for g in groups], ensure_ascii=False, indent=1))
            else:
                for g in groups:
                    print(f"{g.ref}\tasked {review.asked(g.asked)}\t{g.example}")
                if not groups:
                    print("No unanswered questions to review.", file=sys.stderr)
            return 0
        if not (args.assign or args.out_of_scope is not None or args.dismiss is not None):
            knowledge = _knowledge(config)
            if knowledge is None:
                return 1
            return review.walk(store, config.content_dir, config.state_dir, knowledge.matcher, knowledge.content,
                               sys.stdin, sys.stdout, now)  # fmt: skip
        key = args.assign[0] if args.assign else args.out_of_scope if args.dismiss is None else args.dismiss
        try:
            group = review.find_group(store, config.state_dir, key, now)
        except review.ReviewError as exc:
            print(f"socialbot: {exc}", file=sys.stderr)
            return 2
        if args.dismiss is not None:
            store.delete_unanswered(group.ids)
            print(f"dismissed group {group.ref}: '{group.example}'")
            return 0
        if args.text is not None:
            group = dataclasses.replace(group, example=review.example_text(args.text))
        markers = review.removed_data(group.example)
        if markers and not args.force and not _yes(f"{review.removed_data_warning(markers)}. Add it anyway? [y/N] "):
            print(f"socialbot: {review.removed_data_warning(markers)}. Nothing was added. Give an edited example "
                  f"with --text '…' (without {', '.join(markers)}), or add it as it is with --force.",
                  file=sys.stderr)  # fmt: skip
            return 2
        lang = args.lang
        if lang is None:  # as the words say: that takes the matcher's language detection
            knowledge = _knowledge(config)
            if knowledge is None:
                return 1
            lang = review.example_lang(group, knowledge.matcher)
        target = args.assign[1] if args.assign else None
        example = group.example
        try:
            written = review.add_example(config.content_dir, target, example, lang,
                                         also=lambda: store.delete_unanswered(group.ids))  # fmt: skip
        except review.ReviewError as exc:
            print(f"socialbot: {exc}", file=sys.stderr)
            return 1
        print(written.describe())
        return 0
    finally:
        store.close()


def _yes(question: str) -> bool:
    """Ask at a terminal; without one (a script, a pipe) the answer is no."""
    if not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in ("y", "yes", "j", "ja")


def _logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token in URLs
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # addresses are personal data


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from bot.channels.web import WebChannel, WebSettings, serve
    from bot.engine import Engine, Settings
    from bot.runtime import Runtime, transports_from_env

    try:
        transports = transports_from_env()
    except ValueError as exc:
        print(f"socialbot: {exc}", file=sys.stderr)
        return 2
    knowledge = _knowledge(config)
    if knowledge is None:
        return 1
    _logging()
    store = _store(config)
    settings = Settings(retention_days=config.retention_days, keep_unanswered=config.keep_unanswered,
                        limits=config.limits)
    engine = Engine(knowledge, store, channel="web", settings=settings)
    runtime = Runtime(engine, config, transports)
    origins = tuple(o.strip().rstrip("/") for o in args.origins.split(",") if o.strip()) or ("*",)
    web_settings = WebSettings(allowed_origins=origins, trust_proxy=args.trust_proxy,
                               statement_contact=os.environ.get("SOCIALBOT_ACCESSIBILITY_CONTACT", "").strip())
    channel = WebChannel(engine, web_settings, runtime)
    try:
        asyncio.run(serve(channel, args.host, args.port,
                          lambda: print(f"socialbot web on http://{args.host}:{args.port}/", file=sys.stderr)))
    finally:
        store.close()
    return channel.exit_code  # 4: the database was lost (README: the supervisor contract)


def cmd_purge(args: argparse.Namespace, config: Config) -> int:
    store = _store(config)
    counts = store.purge(datetime.now(UTC), config.retention_days)
    print("purged: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


def cmd_migrate_store(args: argparse.Namespace, config: Config) -> int:
    from bot.storage import DB_NAME, SQLiteStore, database_url, open_store
    from bot.storage.copy import CopyRefused, copy_store

    url = args.to or database_url()
    if not url or not url.startswith(("postgresql://", "postgres://")):
        print("socialbot: give the target as --to postgresql://… or in SOCIALBOT_DATABASE_URL", file=sys.stderr)
        return 2
    path = config.state_dir / DB_NAME
    if not path.is_file():
        print(f"socialbot: no SQLite database at {path} (use --state DIR)", file=sys.stderr)
        return 2
    source, target = SQLiteStore(path), open_store(config.state_dir, url)
    try:
        counts = copy_store(source, target)
    except CopyRefused as refused:
        print(f"socialbot: nothing copied: {refused}", file=sys.stderr)
        return 1
    finally:
        source.close()
        target.close()
    print("copied: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    print("Now set SOCIALBOT_DATABASE_URL for every worker; keep the SQLite file as a backup.")
    return 0


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    from bot.stats.render import render
    from bot.stats.report import build_report, content_age, labels

    if args.since and args.until and args.since > args.until:
        print("socialbot: --since is after --until", file=sys.stderr)
        return 2
    if args.mail:
        return _mail_report(args, config)
    content = _knowledge(config, matcher=False)  # the report needs the names, not the matcher
    if content is None:
        return 1
    store = _store(config)
    try:
        names = labels(content)
        report = build_report(store, args.since, args.until, names["topic_titles"], names["developers"],
                              names["region_names"], content_age(content, date.today()))  # fmt: skip
    finally:
        store.close()
    text = render(report, args.format)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _mail_report(args: argparse.Namespace, config: Config) -> int:
    """`stats --mail`: the monthly report, sent now over SMTP (the settings the bot's notifications use)."""
    from bot.mail import MailAttachment, MailError, SmtpSettings, send_mail
    from bot.stats.monthly import monthly_mail, previous_month

    try:
        settings = SmtpSettings.from_env()
    except ValueError as exc:
        print(f"socialbot: {exc}", file=sys.stderr)
        return 2
    recipients = [args.to] if args.to else list(config.report_emails)
    if settings is None or not recipients:
        print("socialbot: set SOCIALBOT_SMTP_HOST (and SOCIALBOT_MAIL_FROM) and SOCIALBOT_REPORT_EMAIL, or --to "
              "(see README.md)", file=sys.stderr)  # fmt: skip
        return 2
    last_month = previous_month(datetime.now(UTC).date())
    first, last = args.since or last_month[0], args.until or last_month[1]
    content = _knowledge(config, matcher=False)
    if content is None:
        return 1
    store = _store(config)
    try:
        mail = monthly_mail(store, content, first, last)
    finally:
        store.close()
    try:
        send_mail(settings, recipients, mail.subject, mail.body,
                  attachments=[MailAttachment(mail.filename, mail.html.encode("utf-8"), "text/html")])  # fmt: skip
    except MailError as exc:
        print(f"socialbot: the report could not be sent: {exc}", file=sys.stderr)
        return 1
    print(f"sent the report for {first.isoformat()} – {last.isoformat()} to {', '.join(recipients)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
