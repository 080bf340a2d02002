import json

from django.conf import settings
from django.core.management.base import BaseCommand

from notify.simulator import MasSimulator


class Command(BaseCommand):
    help = "Run a local 云MAS simulator on 127.0.0.1 (tests, demo, benchmark); never a real gateway."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=18090)
        parser.add_argument("--ec-name", default=settings.MAS_EC_NAME or "某某市税务局")
        parser.add_argument("--ap-id", default=settings.MAS_AP_ID or "swj_notice")
        parser.add_argument("--secret-key", default=settings.MAS_SECRET_KEY or "Test#2024")
        parser.add_argument("--sign", default=settings.MAS_SIGN or "AbCdEfG12")
        parser.add_argument("--report-url", default="", help="push delivery reports here")
        parser.add_argument("--fail-rspcod", default="", help="answer this rspcod to every request")
        parser.add_argument("--fail-http", type=int, default=0, help="answer this HTTP status (e.g. 500)")
        parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of requests that fail")
        parser.add_argument("--timeout", type=float, default=0.0, help="hang this long and do not accept")
        parser.add_argument("--delay", type=float, default=0.0, help="slow answers: sleep, then accept")

    def handle(self, *args, **options):
        simulator = MasSimulator(
            port=options["port"],
            ec_name=options["ec_name"],
            ap_id=options["ap_id"],
            secret_key=options["secret_key"],
            sign=options["sign"],
            report_url=options["report_url"],
        )
        simulator.state.set_faults(
            rspcod=options["fail_rspcod"],
            http_status=options["fail_http"],
            rate=options["fail_rate"],
            timeout=options["timeout"],
            delay=options["delay"],
        )
        self.stdout.write(json.dumps({"listening": simulator.base_url}), ending="\n")
        self.stdout.flush()
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.server.server_close()
