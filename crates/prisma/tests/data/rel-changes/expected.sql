-- DropForeignKey
ALTER TABLE "Profile" DROP CONSTRAINT "Profile_personId_fkey";

-- DropIndex
DROP INDEX "person_name_manager";

-- DropIndex
DROP INDEX "Audit_at_idx";

-- AlterTable
ALTER TABLE "Profile" ALTER COLUMN "bio" DROP NOT NULL,
ALTER COLUMN "bio" DROP DEFAULT;

-- CreateIndex
CREATE INDEX "Audit_at_idx" ON "Audit"("at");

-- AddForeignKey
ALTER TABLE "Profile" ADD CONSTRAINT "Profile_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person"("id") ON DELETE CASCADE ON UPDATE CASCADE;
