"""Report queries and JSON views (TestCase)."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from unittest import mock

from django.test import TestCase
from django.urls import reverse

from catalog import services
from catalog.models import Book, Genre, Loan, Reservation
from catalog.tests import factories as f
from reports.services import (
    fines_report,
    genre_shelf,
    loans_per_month,
    member_activity,
    overdue_report,
    popular_books,
    reservation_queues,
)


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


class FinesReportTests(TestCase):
    """Who owes what, after charges and payments."""

    @classmethod
    def setUpTestData(cls):
        cls.ann = f.member("ann@example.org")
        cls.ben = f.member("ben@example.org")
        cls.cat = f.member("cat@example.org")
        cls.dan = f.member("dan@example.org")
        f.fined_loan(f.book(), cls.ann, 300)
        f.fined_loan(f.book(), cls.ann, 200)
        f.fined_loan(f.book(), cls.ben, 700)
        f.fined_loan(f.book(), cls.cat, 100)
        f.payment(cls.ben, 200)
        f.payment(cls.cat, 100)

    def rows(self):
        return [(r["email"], r["fined"], r["paid"], r["outstanding"]) for r in fines_report()]

    def test_members_who_owe_most_owed_first(self):
        self.assertEqual(self.rows(), [("ann@example.org", 500, 0, 500), ("ben@example.org", 700, 200, 500)])

    def test_members_who_paid_everything_are_left_out(self):
        self.assertNotIn("cat@example.org", [r[0] for r in self.rows()])

    def test_members_without_fines_are_left_out(self):
        self.assertNotIn("dan@example.org", [r[0] for r in self.rows()])

    def test_a_payment_reorders_the_report(self):
        services.pay_fine(self.ann, 450, "REP-1", now=f.NOW)
        self.assertEqual(self.rows(), [("ben@example.org", 700, 200, 500), ("ann@example.org", 500, 450, 50)])

    def test_a_new_late_return_appears(self):
        loan = services.lend(f.book(), self.dan, now=f.NOW)
        services.return_book(loan, now=loan.due_at + timedelta(days=4))
        self.assertIn(("dan@example.org", 100, 0, 100), self.rows())

    def test_the_report_is_one_query(self):
        with self.assertNumQueries(1):
            fines_report()

    def test_json_view_totals(self):
        body = self.client.get(reverse("fines")).json()
        self.assertEqual(body["total_outstanding"], 1000)
        self.assertEqual([m["email"] for m in body["members"]], ["ann@example.org", "ben@example.org"])


class GenreShelfTests(TestCase):
    """Books and loans per genre: the seeded genres always listed."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member()
        fiction, poetry = f.genre("fiction"), f.genre("poetry")
        for i in range(3):
            b = f.book(f"Novel {i}", genre=fiction)
            loan = services.lend(b, cls.member, now=f.NOW - timedelta(days=30 - i))
            services.return_book(loan, now=f.NOW - timedelta(days=20 - i))
        f.book("Odes", genre=poetry)

    def shelf(self):
        return {r["slug"]: (r["books_count"], r["loans_count"]) for r in genre_shelf()}

    def test_every_seeded_genre_is_listed(self):
        self.assertEqual(sorted(self.shelf()), ["children", "fiction", "history", "poetry", "science"])

    def test_counts(self):
        shelf = self.shelf()
        self.assertEqual((shelf["fiction"], shelf["poetry"], shelf["science"]), ((3, 3), (1, 0), (0, 0)))

    def test_a_new_genre_is_listed_after_the_seed(self):
        sagas = Genre.objects.create(slug="sagas", name="Sagas")
        f.book("Njal's Saga", year=1500, genre=sagas)
        self.assertEqual(self.shelf()["sagas"], (1, 0))
        self.assertEqual(len(self.shelf()), 6)

    def test_a_second_loan_of_one_book_counts_twice(self):
        b = Book.objects.get(title="Novel 0")
        services.lend(b, f.member(), now=f.NOW)
        self.assertEqual(self.shelf()["fiction"], (3, 4))

    def test_books_without_genre_are_not_counted(self):
        f.book("Loose Pages")
        self.assertEqual(sum(n for n, _ in self.shelf().values()), 4)

    def test_json_view(self):
        body = self.client.get(reverse("genres")).json()
        self.assertEqual([g["slug"] for g in body["genres"]], ["children", "fiction", "history", "poetry", "science"])


class ReservationQueueReportTests(TestCase):
    """Books with people waiting, longest queue first."""

    @classmethod
    def setUpTestData(cls):
        cls.popular = f.book("Popular")
        cls.quiet = f.book("Quiet")
        cls.shelved = f.book("Shelved")
        f.loan(cls.popular, f.member())
        f.loan(cls.quiet, f.member())
        cls.queue = [services.reserve(cls.popular, f.member(), now=f.NOW + timedelta(hours=i)) for i in range(3)]
        services.reserve(cls.quiet, f.member(), now=f.NOW)
        services.reserve(cls.shelved, f.member(), now=f.NOW)

    def rows(self):
        return [(r["title"], r["waiting"], r["held"]) for r in reservation_queues()]

    def test_queues_longest_first(self):
        self.assertEqual(self.rows(), [("Popular", 3, 0), ("Quiet", 1, 0), ("Shelved", 0, 1)])

    def test_a_cancellation_shortens_a_queue(self):
        services.cancel_reservation(self.queue[0], now=f.NOW)
        self.assertEqual(self.rows()[0], ("Popular", 2, 0))

    def test_a_return_turns_the_first_in_line_into_a_hold(self):
        services.return_book(Loan.objects.get(book=self.popular), now=f.NOW + timedelta(days=1))
        self.assertEqual(self.rows()[0], ("Popular", 2, 1))

    def test_a_fulfilled_hold_leaves_the_report(self):
        holder = Reservation.objects.get(book=self.shelved).member
        services.lend(self.shelved, holder, now=f.NOW)
        self.assertNotIn("Shelved", [r[0] for r in self.rows()])

    def test_books_nobody_wants_are_not_listed(self):
        f.book("Unloved")
        self.assertEqual(len(self.rows()), 3)


class LoansPerMonthTests(TestCase):
    """Loans started per month of 2024: one loan in January, two in February, …"""

    @classmethod
    def setUpTestData(cls):
        member = f.member(max_loans=100)
        for month in range(1, 13):
            for day in range(1, min(month, 3) + 1):
                b = f.book()
                start = datetime(2024, month, day * 5, 10, tzinfo=dt_timezone.utc)
                f.loan(b, member, borrowed=start, returned=start + timedelta(days=3))
        f.loan(f.book(), member, borrowed=datetime(2023, 12, 31, 23, 59, tzinfo=dt_timezone.utc))
        f.loan(f.book(), member, borrowed=datetime(2025, 1, 1, 0, 0, tzinfo=dt_timezone.utc))

    def test_a_year_without_loans(self):
        self.assertEqual(loans_per_month(2019), {})

    def test_the_neighbouring_years_have_one_loan_each(self):
        self.assertEqual(loans_per_month(2023), {12: 1})
        self.assertEqual(loans_per_month(2025), {1: 1})

    def test_the_year_total(self):
        self.assertEqual(sum(loans_per_month(2024).values()), 1 + 2 + 3 * 10)

    def test_json_view_lists_twelve_months(self):
        body = self.client.get(reverse("monthly", args=[2024])).json()
        self.assertEqual(body["months"], [1, 2] + [3] * 10)


for _month in range(1, 13):
    def _test(self, month=_month):
        self.assertEqual(loans_per_month(2024).get(month), min(month, 3))

    setattr(LoansPerMonthTests, f"test_month_{_month:02d}", _test)


class OverdueReportEdgeTests(TestCase):
    """The overdue report at the edges of due dates."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member("edge@example.org")
        cls.loan = f.loan(f.book("Edge"), cls.member, borrowed=f.NOW - timedelta(days=14))

    def test_due_right_now_is_not_overdue(self):
        self.assertEqual(overdue_report(f.NOW), [])

    def test_a_second_later_it_is(self):
        rows = overdue_report(f.NOW + timedelta(seconds=1))
        self.assertEqual([(r["days_overdue"], r["fine_cents"]) for r in rows], [(0, 25)])

    def test_a_returned_loan_is_never_overdue(self):
        services.return_book(self.loan, now=f.NOW + timedelta(days=1))
        self.assertEqual(overdue_report(f.NOW + timedelta(days=30)), [])

    def test_the_fine_so_far_is_capped(self):
        rows = overdue_report(f.NOW + timedelta(days=400))
        self.assertEqual(rows[0]["fine_cents"], 1000)

    def test_renewing_takes_it_off_the_report(self):
        services.renew(self.loan, now=f.NOW)
        self.assertEqual(overdue_report(f.NOW + timedelta(days=1)), [])
