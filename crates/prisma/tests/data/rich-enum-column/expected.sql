-- AlterTable
ALTER TABLE "users" DROP COLUMN "full_name",
ADD COLUMN     "full_name" "roles";

-- CreateIndex
CREATE INDEX "user_name_role" ON "users"("full_name" DESC, "role");
