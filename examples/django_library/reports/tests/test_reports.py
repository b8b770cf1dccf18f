"""Report queries and JSON views (TestCase)."""

from datetime import timedelta
from unittest import mock

from django.test import TestCase
from django.urls import reverse

from catalog import services
from catalog.tests import factories as f
from reports.services import member_activity, overdue_report, popular_books


class ReportFixture(TestCase):
    """Three members, four books, a loan history with fines and overdue loans."""

    @classmethod
    def setUpTestData(cls):
        cls.ann = f.member("ann@example.org")
        cls.ben = f.member("ben@example.org")
        cls.cat = f.member("cat@example.org")
        cls.dune = f.book("Dune", year=1965)
        cls.emma = f.book("Emma", year=1815)
        cls.ivanhoe = f.book("Ivanhoe", year=1819)
        cls.odyssey = f.book("The Odyssey", year=1614)
        day = timedelta(days=1)
        # Dune: lent three times, Emma twice, Ivanhoe once, The Odyssey never.
        for member_, start in ((cls.ann, 100), (cls.ben, 80)):
            loan = services.lend(cls.dune, member_, now=f.NOW - start * day)
            services.return_book(loan, now=loan.due_at + 2 * day)  # 50 cents each
        services.lend(cls.dune, cls.cat, now=f.NOW - 20 * day)  # 6 days overdue
        loan = services.lend(cls.emma, cls.ann, now=f.NOW - 60 * day)
        services.return_book(loan, now=loan.due_at - day)
        services.lend(cls.emma, cls.ben, now=f.NOW - 40 * day)  # 26 days overdue
        services.lend(cls.ivanhoe, cls.ann, now=f.NOW - 2 * day)  # not due yet


class OverdueReportTests(ReportFixture):
    """The overdue report lists open loans past due, most overdue first."""

    def test_rows_are_exact(self):
        self.assertEqual(
            [(r["member"], r["book"], r["days_overdue"], r["fine_cents"]) for r in overdue_report(f.NOW)],
            [("ben@example.org", "Emma", 26, 650), ("cat@example.org", "Dune", 6, 150)],
        )

    def test_nothing_is_overdue_before_the_first_due_date(self):
        self.assertEqual(overdue_report(f.NOW - timedelta(days=27)), [])

    def test_json_view(self):
        with mock.patch("django.utils.timezone.now", return_value=f.NOW):
            response = self.client.get(reverse("overdue"))
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["count"], 2)
        self.assertEqual([row["isbn"] for row in body["loans"]], [self.emma.isbn, self.dune.isbn])


class PopularityTests(ReportFixture):
    """Books by how often they were lent; members by what they did."""

    def test_popular_books_in_order(self):
        self.assertEqual(
            [(b["title"], b["times_lent"]) for b in popular_books()],
            [("Dune", 3), ("Emma", 2), ("Ivanhoe", 1)],
        )

    def test_limit(self):
        self.assertEqual([b["title"] for b in popular_books(limit=1)], ["Dune"])

    def test_popular_view_checks_its_limit(self):
        self.assertEqual(self.client.get(reverse("popular"), {"limit": "x"}).status_code, 400)
        response = self.client.get(reverse("popular"), {"limit": 2})
        self.assertEqual([b["title"] for b in response.json()["books"]], ["Dune", "Emma"])

    def test_member_activity_sums_loans_and_fines(self):
        self.assertEqual(
            [(m["email"], m["total_loans"], m["open_loans"], m["fines_cents"]) for m in member_activity()],
            [
                ("ann@example.org", 3, 1, 50),
                ("ben@example.org", 2, 1, 50),
                ("cat@example.org", 1, 1, 0),
            ],
        )

    def test_activity_takes_one_query(self):
        with self.assertNumQueries(1):
            member_activity()
