"""Blueprints, one module per area."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from pos.views import account, auth, health
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(health.bp)
    from pos.views import applicant, embed, open311
    app.register_blueprint(applicant.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(open311.bp)
    from pos.views import incidents
    app.register_blueprint(incidents.bp)
    from pos.views import staff, staff_access, staff_admin, staff_bulk, staff_incidents, staff_message  # noqa: F401  (they add their routes to staff.bp)
    app.register_blueprint(staff.bp)
    from pos.views import admin  # its sections add their routes to admin.bp
    app.register_blueprint(admin.bp)
    from pos.views import analytics
    app.register_blueprint(analytics.bp)
    from pos.views import rating
    app.register_blueprint(rating.bp)
    from pos.views import votes_public, votes_staff
    app.register_blueprint(votes_public.bp)
    app.register_blueprint(votes_staff.bp)
