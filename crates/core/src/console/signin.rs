//! Sign-in and sign-out pages: a user name and password form posted to the user pool
//! ([`Identity`]), the pool's challenges (a new password on an admin-created user's first
//! sign-in, an authenticator code when TOTP is on), and the session cookie (the access token).

use std::fmt::Write;

use super::html::{self, escape, Frame};
use super::identity::{Challenge, ChallengeKind, IdentityError, SignInStep};
use super::session::{self, Session};
use super::{form, Console, Request, Response, CSP};

/// The longest user name, password and challenge session a form may carry (Cognito's own
/// limits: 128, 256 and 2048 characters).
const USERNAME_MAX: usize = 128;
const PASSWORD_MAX: usize = 256;
const SESSION_MAX: usize = 2048;

/// The one value of `name` in a form; `None` when it is missing, repeated, empty, too long or
/// holds control characters.
fn one(f: &[(String, String)], name: &str, max: usize) -> Option<String> {
    let mut it = f.iter().filter(|(k, _)| k == name);
    let (_, v) = it.next()?;
    let ok = it.next().is_none() && !v.is_empty() && v.chars().count() <= max && !v.chars().any(char::is_control);
    ok.then(|| v.clone())
}

fn frame(title: &str) -> Frame<'_> {
    Frame { title, tenant: None, current: "", who: None, operator: false }
}

fn problem_html(problem: Option<&str>) -> String {
    problem.map(|p| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(p))).unwrap_or_default()
}

/// The sign-in form, with a problem to show (then `status` says what went wrong).
pub(crate) fn page(status: u16, problem: Option<&str>) -> Response {
    let mut h = String::from("<h1>Sign in</h1>");
    h.push_str(&problem_html(problem));
    h.push_str("<p class=\"muted\">Operator staff and tenants' users sign in with the account the operator created for them in the user pool.</p>");
    h.push_str("<form method=\"post\" action=\"/login\" class=\"filters\"><label>User name <input name=\"username\" autocomplete=\"username\" required maxlength=\"128\"></label><label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required maxlength=\"256\"></label><button type=\"submit\">Sign in</button></form>");
    Response::html(status, html::page(&frame("Sign in"), &h)).with("content-security-policy", CSP.into())
}

/// A challenge's form: the pool's session travels in a hidden field to the next POST.
fn challenge_page(c: &Challenge, problem: Option<&str>) -> Response {
    let (title, intro, field) = match c.kind {
        ChallengeKind::NewPassword => (
            "Choose a new password",
            "This is your first sign-in: choose a password of your own.",
            "<label>New password <input type=\"password\" name=\"answer\" autocomplete=\"new-password\" required maxlength=\"256\"></label>",
        ),
        ChallengeKind::Totp => (
            "Enter your code",
            "Enter the six-digit code your authenticator app shows.",
            "<label>Code <input name=\"answer\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required maxlength=\"6\"></label>",
        ),
    };
    let mut h = format!("<h1>{title}</h1>{}<p>{intro}</p>", problem_html(problem));
    let _ = write!(
        h,
        "<form method=\"post\" action=\"/login/challenge\" class=\"filters\"><input type=\"hidden\" name=\"challenge\" value=\"{}\"><input type=\"hidden\" name=\"username\" value=\"{}\"><input type=\"hidden\" name=\"session\" value=\"{}\">{field}<button type=\"submit\">Continue</button></form>",
        c.kind.name(),
        escape(&c.username),
        escape(&c.session)
    );
    let status = if problem.is_some() { 400 } else { 200 };
    Response::html(status, html::page(&frame(title), &h)).with("content-security-policy", CSP.into())
}

impl Console {
    /// `POST /login`: the user name and password, to the pool.
    pub(crate) async fn login(&self, req: &Request<'_>) -> Response {
        let f = form(req.body);
        let (Some(user), Some(password)) = (one(&f, "username", USERNAME_MAX), one(&f, "password", PASSWORD_MAX))
        else {
            return page(400, Some("Enter a user name and a password."));
        };
        match self.identity.sign_in(&user, &password).await {
            Ok(step) => self.signed_in(step).await,
            Err(e) => self.refused(&e, None),
        }
    }

    /// `POST /login/challenge`: the answer to the pool's challenge.
    pub(crate) async fn login_challenge(&self, req: &Request<'_>) -> Response {
        let f = form(req.body);
        let kind = one(&f, "challenge", 32).and_then(|k| ChallengeKind::parse(&k));
        let (Some(kind), Some(username), Some(session)) =
            (kind, one(&f, "username", USERNAME_MAX), one(&f, "session", SESSION_MAX))
        else {
            return page(400, Some("That sign-in step is not valid any more: sign in again."));
        };
        let c = Challenge { kind, username, session };
        let answer = one(&f, "answer", PASSWORD_MAX);
        let answer = match (kind, answer) {
            (ChallengeKind::Totp, Some(a)) if a.len() == 6 && a.bytes().all(|b| b.is_ascii_digit()) => a,
            (ChallengeKind::NewPassword, Some(a)) => a,
            _ => return challenge_page(&c, Some("Enter an answer of the requested kind.")),
        };
        match self.identity.answer(&c, &answer).await {
            Ok(step) => self.signed_in(step).await,
            Err(e) => self.refused(&e, Some(&c)),
        }
    }

    /// `POST /logout`: the pool revokes the token (best effort), the cookie is cleared.
    pub(crate) async fn logout(&self, req: &Request<'_>) -> Response {
        if let Some(token) = req.cookie.and_then(session::cookie_value) {
            if let Err(e) = self.identity.sign_out(token).await {
                tracing::info!(error = %e, "sign-out: the pool did not revoke the token");
            }
        }
        Response::redirect("/login").with("set-cookie", session::clear_cookie(self.secure_cookies))
    }

    async fn signed_in(&self, step: SignInStep) -> Response {
        let tokens = match step {
            SignInStep::Challenge(c) => return challenge_page(&c, None),
            SignInStep::Tokens(t) => t,
        };
        let user = match self.identity.user(&tokens.access_token).await {
            Ok(u) => u,
            Err(e) => return self.refused(&e, None),
        };
        if Session::of(&user).is_none() {
            // Neither operator staff nor a tenant's user: nothing to show, no cookie.
            let _ = self.identity.sign_out(&tokens.access_token).await;
            let body = "<h1>No access</h1><p class=\"error\" role=\"alert\">This account is neither operator staff nor a user of a tenant, so the console has nothing to show it. Ask the operator to set its tenant or group.</p>";
            return Response::html(403, html::page(&frame("No access"), body))
                .with("content-security-policy", CSP.into());
        }
        let max_age = tokens.expires_in.min(user.expires_at - self.now_secs());
        Response::redirect("/")
            .with("set-cookie", session::set_cookie(&tokens.access_token, max_age, self.secure_cookies))
    }

    fn refused(&self, e: &IdentityError, challenge: Option<&Challenge>) -> Response {
        match (e, challenge) {
            (IdentityError::Rejected(m), Some(c)) => challenge_page(c, Some(m)),
            (IdentityError::Rejected(m), None) => page(400, Some(m)),
            (IdentityError::Refused, _) => {
                page(401, Some("The user name or password is wrong, or the sign-in step expired."))
            }
            (IdentityError::Unsupported(_), _) => page(403, Some(&e.to_string())),
            (IdentityError::Unavailable(detail), _) => {
                tracing::error!(error = %detail, "the user pool is unavailable");
                page(503, Some(&e.to_string()))
            }
        }
    }

    /// The session of a request's cookie: the pool must accept the token, it must not have
    /// expired by this console's clock either, and its user must be staff or a tenant's user.
    pub(crate) async fn session(&self, req: &Request<'_>) -> Result<Session, Response> {
        let to_login = || Response::redirect("/login").with("set-cookie", session::clear_cookie(self.secure_cookies));
        let Some(token) = req.cookie.and_then(session::cookie_value) else { return Err(Response::redirect("/login")) };
        match self.identity.user(token).await {
            Ok(u) if u.expires_at > self.now_secs() => Session::of(&u).ok_or_else(to_login),
            Ok(_) | Err(IdentityError::Refused) => Err(to_login()),
            Err(e) => Err(self.refused(&e, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_field_is_one_bounded_printable_value() {
        let f = |s: &str| form(s.as_bytes());
        assert_eq!(one(&f("username=ann"), "username", 8), Some("ann".into()));
        assert_eq!(one(&f("username=ann&username=bob"), "username", 8), None, "repeated");
        assert_eq!(one(&f("username="), "username", 8), None, "empty");
        assert_eq!(one(&f("password=x"), "username", 8), None, "missing");
        assert_eq!(one(&f("username=123456789"), "username", 8), None, "too long");
        assert_eq!(one(&f("username=a%0Db"), "username", 8), None, "a control character");
        assert_eq!(
            one(&f("username=%FF%FE"), "username", 8),
            Some("\u{fffd}\u{fffd}".into()),
            "invalid UTF-8 is replaced"
        );
    }
}
