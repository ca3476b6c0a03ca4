"""Django implementations of the services' repositories, and the mapping between rows and domain objects."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from command_service.apps.comments.models import Comment as CommentRow
from command_service.apps.idempotency.models import IdempotencyRecord
from command_service.apps.posts.models import Post as PostRow
from command_service.apps.posts.models import Tag
from command_service.apps.users.models import User as UserRow
from command_service.apps.users.passwords import password_problems
from command_service.domain import rules
from command_service.domain.comments import Comment
from command_service.domain.errors import Conflict, NotFound
from command_service.domain.posts import Post, PostStatus
from command_service.domain.users import User
from command_service.services.idempotency import caller_scope


def _save_if_unchanged(row_class: type[Model], pk: int, read_version: int, **fields: object) -> None:
    """Update a row only if it is still at the version that was read: optimistic concurrency in one statement."""
    updated = row_class.objects.filter(pk=pk, version=read_version).update(**fields)
    if updated != 1:
        raise Conflict(f"{row_class._meta.model_name} {pk} was changed concurrently: read it again and retry")


class DjangoUsers:
    """Users in the `users` table."""

    def get(self, user_id: int, *, include_inactive: bool = False) -> User:
        rows = UserRow.objects.filter(erased_at__isnull=True)  # an erased account is one that is not
        rows = rows if include_inactive else rows.filter(is_active=True)
        try:
            row = rows.get(pk=user_id)
        except UserRow.DoesNotExist:
            raise NotFound(f"user {user_id} not found") from None
        return User(
            row.pk, row.username, row.display_name, row.avatar_url or None, row.bio, row.is_staff, row.version,
            row.is_active,
        )  # fmt: skip

    def add(self, user: User, *, password: str) -> None:
        taken = Conflict("the username is taken", {"username": ["is taken"]})
        if UserRow.objects.filter(username__iexact=user.username).exists():
            raise taken
        try:
            with transaction.atomic():  # the row itself: UserRow.objects.create_user is this service's front door
                row = UserRow(
                    username=UserRow.normalize_username(user.username), display_name=user.display_name,
                    version=user.version, announced=True,
                )  # fmt: skip
                row.set_password(password)
                row.save()
        except IntegrityError:  # a concurrent registration won the race
            raise taken from None
        user.id = row.pk

    def password_problems(self, password: str, *, username: str, display_name: str) -> list[str]:
        return password_problems(password, UserRow(username=username, display_name=display_name))

    def save(self, user: User) -> None:
        _save_if_unchanged(
            UserRow, user.id, user.version - 1,
            display_name=user.display_name, avatar_url=user.avatar_url or "", bio=user.bio, is_active=user.is_active,
            version=user.version,
        )  # fmt: skip

    def password_matches(self, user_id: int, password: str) -> bool:
        # A password longer than any that can be set is not hashed to find out that it is wrong.
        row = UserRow.objects.filter(pk=user_id, erased_at__isnull=True).first()
        return row is not None and len(password) <= rules.PASSWORD_MAX and row.check_password(password)

    def erase(self, user: User) -> None:
        """Blank the account row (an unusable password: not even a hash of the old one stays), then every other row
        that holds the person's data: sign-in tokens, their stored Idempotency-Key responses (and their
        registration's), admin log entries naming them or their content, and the text and tags of their posts and
        comments."""
        unusable = UserRow()
        unusable.set_unusable_password()
        _save_if_unchanged(
            UserRow, user.id, user.version - 1,
            username=user.username, display_name="", avatar_url="", bio="", email="", first_name="", last_name="",
            password=unusable.password, is_active=False, is_staff=False, is_superuser=False, last_login=None,
            erased_at=timezone.now(), version=user.version,
        )  # fmt: skip
        AuthToken.objects.filter(user_id=user.id).delete()
        posts = list(PostRow.objects.filter(author_id=user.id).values_list("pk", flat=True))
        comments = list(CommentRow.objects.filter(author_id=user.id).values_list("pk", flat=True))
        # Their own stored responses, and their registration's (an anonymous caller's, found by its Location).
        IdempotencyRecord.objects.filter(
            Q(scope=caller_scope(user.id, None))
            | Q(headers__Location__endswith=reverse("api:user-detail", kwargs={"user_id": user.id}))
        ).delete()  # fmt: skip
        named = Q(content_type=ContentType.objects.get_for_model(UserRow), object_id=str(user.id))
        named |= Q(content_type=ContentType.objects.get_for_model(PostRow), object_id__in=[str(pk) for pk in posts])
        named |= Q(
            content_type=ContentType.objects.get_for_model(CommentRow), object_id__in=[str(pk) for pk in comments]
        )
        LogEntry.objects.filter(named).delete()
        PostRow.objects.filter(pk__in=posts).update(title="", content="")
        PostRow.tags.through.objects.filter(post_id__in=posts).delete()
        CommentRow.objects.filter(pk__in=comments).update(body="")


class DjangoPosts:
    """Posts in the `posts` table, tags through `tags`."""

    def get(self, post_id: int) -> Post:
        try:
            row = PostRow.objects.prefetch_related("tags").get(pk=post_id)
        except PostRow.DoesNotExist:
            raise NotFound(f"post {post_id} not found") from None
        return self._post_of(row)

    def of_author(self, author_id: int) -> list[Post]:
        rows = PostRow.objects.prefetch_related("tags").filter(author_id=author_id).order_by("pk")
        return [self._post_of(row) for row in rows]

    @staticmethod
    def _post_of(row: PostRow) -> Post:
        return Post(
            id=row.pk, author_id=row.author_id, title=row.title, content=row.content,
            tags=tuple(sorted(tag.name for tag in row.tags.all())), status=PostStatus(row.status),
            created_at=row.created_at, updated_at=row.updated_at, published_at=row.published_at, version=row.version,
        )  # fmt: skip

    def add(self, post: Post) -> None:
        row = PostRow.objects.create(
            author_id=post.author_id, title=post.title, content=post.content, status=post.status,
            version=post.version, created_at=post.created_at, updated_at=post.updated_at,
            published_at=post.published_at, announced=True,
        )  # fmt: skip
        post.id = row.pk
        self._set_tags(row, post.tags)

    def save(self, post: Post) -> None:
        _save_if_unchanged(
            PostRow, post.id, post.version - 1,
            title=post.title, content=post.content, status=post.status, version=post.version,
            updated_at=post.updated_at, published_at=post.published_at,
        )  # fmt: skip
        row = PostRow.objects.get(pk=post.id)
        if tuple(sorted(row.tags.values_list("name", flat=True))) != post.tags:
            self._set_tags(row, post.tags)

    @staticmethod
    def _set_tags(row: PostRow, names: tuple[str, ...]) -> None:
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
        missing = [Tag(name=name) for name in names if name not in existing]
        if missing:
            Tag.objects.bulk_create(missing, ignore_conflicts=True)
            existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
        row.tags.set([existing[name] for name in names])


class DjangoComments:
    """Comments in the `comments` table."""

    def get(self, comment_id: int) -> Comment:
        try:
            row = CommentRow.objects.get(pk=comment_id)
        except CommentRow.DoesNotExist:
            raise NotFound(f"comment {comment_id} not found") from None
        return self._comment_of(row)

    def of_author(self, author_id: int) -> list[Comment]:
        return [self._comment_of(row) for row in CommentRow.objects.filter(author_id=author_id).order_by("pk")]

    @staticmethod
    def _comment_of(row: CommentRow) -> Comment:
        return Comment(
            id=row.pk, post_id=row.post_id, author_id=row.author_id, body=row.body, created_at=row.created_at,
            updated_at=row.updated_at, is_deleted=row.is_deleted, version=row.version,
        )  # fmt: skip

    def add(self, comment: Comment) -> None:
        row = CommentRow.objects.create(
            post_id=comment.post_id, author_id=comment.author_id, body=comment.body, version=comment.version,
            created_at=comment.created_at, updated_at=comment.updated_at, announced=True,
        )  # fmt: skip
        comment.id = row.pk

    def save(self, comment: Comment) -> None:
        _save_if_unchanged(
            CommentRow, comment.id, comment.version - 1,
            body=comment.body, is_deleted=comment.is_deleted, version=comment.version, updated_at=comment.updated_at,
        )  # fmt: skip
